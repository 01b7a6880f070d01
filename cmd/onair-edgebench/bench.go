package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/onair/onair/delivery/edge"
)

// Targets of the issue, as ratios of nginx's requests per second.
const (
	segmentTarget  = 0.8
	playlistTarget = 0.5
)

// bench is one run of the whole benchmark.
type bench struct {
	Out         io.Writer
	Duration    time.Duration
	Connections int
	Threads     int
	Viewers     int
	Segments    int
	Runs        int
	OriginDelay time.Duration
	Clip        string
}

// Run prepares the objects and servers, measures, prints and stops them.
func (b *bench) Run(ctx context.Context) error {
	dir, err := os.MkdirTemp("", "onair-edgebench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	// nginx started by root reads files as its workers' user, nobody.
	if err := os.Chmod(dir, 0o755); err != nil {
		return err
	}

	segment, err := makeSegment(dir, b.Clip)
	if err != nil {
		return err
	}

	objects := map[string][]byte{segmentPath: segment, playlistPath: makePlaylist()}
	if err := writeTree(dir+"/www", objects); err != nil {
		return err
	}

	nginxAddr, err := freeAddr()
	if err != nil {
		return err
	}

	ngx, err := startNginx(dir, nginxAddr)
	if err != nil {
		return err
	}
	defer ngx.stop()

	o := &origin{objects: objects, segment: segment, delay: b.OriginDelay}

	originURL, stopOrigin, err := serveHTTP(o)
	if err != nil {
		return err
	}
	defer stopOrigin()

	u, _ := url.Parse(originURL)
	cache := &edge.Cache{Origins: []*url.URL{u}}

	if err := cache.Start(); err != nil {
		return err
	}
	defer cache.Close()

	edgeURL, stopEdge, err := serveHTTP(cache.Handler())
	if err != nil {
		return err
	}
	defer stopEdge()

	return b.measure(ctx, "http://"+nginxAddr, edgeURL, objects, o)
}

// measure drives both servers and prints the figures.
func (b *bench) measure(ctx context.Context, nginxURL, edgeURL string, objects map[string][]byte,
	o *origin) error {
	l := load{Duration: b.Duration, Connections: b.Connections, Threads: b.Threads}

	fmt.Fprintf(b.Out, "edge vs nginx on 127.0.0.1, %d connections for %v each, "+
		"median of %d alternating runs\n", b.Connections, b.Duration, b.Runs)
	fmt.Fprintf(b.Out, "%-18s %14s %14s %11s %8s\n", "object", "nginx req/s", "edge req/s",
		"edge/nginx", "target")

	for _, obj := range []struct {
		name   string
		path   string
		target float64
	}{
		{fmt.Sprintf("segment %.2f MB", float64(len(objects[segmentPath]))/1e6), segmentPath,
			segmentTarget},
		{fmt.Sprintf("playlist %.1f KB", float64(len(objects[playlistPath]))/1e3), playlistPath,
			playlistTarget},
	} {
		// Warm both: the edge's copy is hot, nginx's file is in the page cache.
		for _, base := range []string{nginxURL, edgeURL} {
			if err := fetch(ctx, http.DefaultClient, base+obj.path); err != nil {
				return err
			}
		}

		nr, er, gen, err := b.rates(ctx, l, nginxURL+obj.path, edgeURL+obj.path)
		if err != nil {
			return err
		}

		verdict := "met"
		if er/nr < obj.target {
			verdict = "missed"
		}

		fmt.Fprintf(b.Out, "%-18s %14.0f %14.0f %10.2fx %5.1fx %s (%s)\n", obj.name, nr, er,
			er/nr, obj.target, verdict, gen)
	}

	return b.viewers(ctx, edgeURL, o)
}

// rates measures nginx and the edge in turn, b.Runs times each, so that
// other load on the machine falls on both alike; it returns the medians.
func (b *bench) rates(ctx context.Context, l load, nginxURL, edgeURL string) (
	nginxRate, edgeRate float64, gen string, err error) {
	var nr, er []float64

	for range b.Runs {
		r, g, err := l.rate(ctx, nginxURL)
		if err != nil {
			return 0, 0, "", err
		}

		nr, gen = append(nr, r), g

		r, _, err = l.rate(ctx, edgeURL)
		if err != nil {
			return 0, 0, "", err
		}

		er = append(er, r)
	}

	return median(nr), median(er), gen, nil
}

// median returns the middle of v, or the mean of the two middle ones.
func median(v []float64) float64 {
	slices.Sort(v)

	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}

	return (v[n/2-1] + v[n/2]) / 2
}

// viewers sends b.Viewers concurrent requests for each of b.Segments new
// segments through the edge and prints the origin requests each one cost.
func (b *bench) viewers(ctx context.Context, edgeURL string, o *origin) error {
	tr := &http.Transport{MaxIdleConnsPerHost: b.Viewers, DisableCompression: true}
	defer tr.CloseIdleConnections()

	client := &http.Client{Transport: tr}

	var counts []string

	exact := true

	for i := range b.Segments {
		path := fmt.Sprintf("/in1/manifest/360p/s0123/seg_%d.m4s", 100+i)
		start := make(chan struct{})
		errs := make(chan error, b.Viewers)

		var wg sync.WaitGroup

		for range b.Viewers {
			wg.Add(1)

			go func() {
				defer wg.Done()
				<-start

				errs <- fetch(ctx, client, edgeURL+path)
			}()
		}

		close(start)
		wg.Wait()
		close(errs)

		for err := range errs {
			if err != nil {
				return fmt.Errorf("viewer of %s: %w", path, err)
			}
		}

		n := o.count(path)
		exact = exact && n == 1
		counts = append(counts, fmt.Sprint(n))
	}

	verdict := "met"
	if !exact {
		verdict = "missed"
	}

	fmt.Fprintf(b.Out, "%d concurrent viewers per new segment, %d segments: origin requests "+
		"per segment %s (target exactly 1: %s)\n", b.Viewers, b.Segments,
		strings.Join(counts, ", "), verdict)

	return nil
}

// origin serves the bench's objects with onair's origin headers, and any
// other segment path with the segment's bytes after delay, counting requests.
type origin struct {
	objects map[string][]byte
	segment []byte
	delay   time.Duration

	mu     sync.Mutex
	counts map[string]int
}

func (o *origin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	if o.counts == nil {
		o.counts = map[string]int{}
	}

	o.counts[r.URL.Path]++
	o.mu.Unlock()

	data, ok := o.objects[r.URL.Path]
	if !ok && strings.HasSuffix(r.URL.Path, ".m4s") {
		time.Sleep(o.delay)

		data, ok = o.segment, true
	}

	if !ok {
		http.NotFound(w, r)

		return
	}

	h := w.Header()
	if strings.HasSuffix(r.URL.Path, ".m3u8") {
		h.Set("Content-Type", playlistType)
		h.Set("Cache-Control", playlistCache)
	} else {
		h.Set("Content-Type", segmentType)
		h.Set("Cache-Control", segmentCache)
	}

	h.Set("Access-Control-Allow-Origin", "*")
	w.Write(data)
}

func (o *origin) count(path string) int {
	o.mu.Lock()
	defer o.mu.Unlock()

	return o.counts[path]
}

// serveHTTP serves h on a kernel-chosen loopback port.
func serveHTTP(h http.Handler) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}

	srv := &http.Server{Handler: h}
	done := make(chan struct{})

	go func() {
		defer close(done)

		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(os.Stderr, "onair-edgebench: serve:", err)
		}
	}()

	stop := func() {
		srv.Close()
		<-done
	}

	return "http://" + ln.Addr().String(), stop, nil
}

// freeAddr returns a loopback address that was free a moment ago, for nginx,
// which cannot be told to take a port of the kernel's choosing and report it.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()

	return ln.Addr().String(), nil
}
