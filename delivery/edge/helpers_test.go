package edge

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onair/onair/delivery"
	"github.com/onair/onair/packager"
	"github.com/onair/onair/packager/packagertest"
)

// lookup is a delivery.Presentations over a map.
type lookup map[string]*packager.Presentation

func (l lookup) Presentation(id string) (*packager.Presentation, bool) {
	p, ok := l[id]

	return p, ok
}

var (
	mediaOnce sync.Once
	media     *packagertest.Media
)

// presentation returns an ended presentation of real encoded media, encoded
// once per test binary.
func presentation(t *testing.T) *packager.Presentation {
	t.Helper()

	mediaOnce.Do(func() {
		media = packagertest.Make(t, packagertest.Options{
			Rungs:    []packagertest.Rung{{Name: "360p", Width: 640, Height: 360, Bitrate: 600_000}},
			Audio:    true,
			Duration: 6 * time.Second,
		})
	})

	if media == nil {
		t.Fatal("no media")
	}

	p := &packager.Presentation{}
	if err := p.Start(media.Tracks); err != nil {
		t.Fatal(err)
	}

	for _, u := range media.Units {
		p.Write(u)
	}

	p.End()

	return p
}

// counter wraps an origin handler, counting requests by path and query and
// holding them while gate says so.
type counter struct {
	next http.Handler

	mu     sync.Mutex
	counts map[string]int
	gate   func(r *http.Request) // called before next; may block
}

func (c *counter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	if c.counts == nil {
		c.counts = map[string]int{}
	}

	c.counts[r.URL.RequestURI()]++
	gate := c.gate
	c.mu.Unlock()

	if gate != nil {
		gate(r)
	}

	c.next.ServeHTTP(w, r)
}

// count returns the requests seen for uri.
func (c *counter) count(uri string) int {
	c.mu.Lock()
	defer c.mu.Unlock()

	return c.counts[uri]
}

// total returns every request seen.
func (c *counter) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()

	n := 0
	for _, v := range c.counts {
		n += v
	}

	return n
}

// testOrigin is the real onair origin serving one presentation as "in1",
// behind a counter.
type testOrigin struct {
	*counter
	url  *url.URL
	srv  *httptest.Server
	pres *packager.Presentation
}

func newTestOrigin(t *testing.T) *testOrigin {
	t.Helper()

	p := presentation(t)
	o := &delivery.Origin{Presentations: lookup{"in1": p}}
	c := &counter{next: o.Handler()}

	srv := httptest.NewServer(c)
	t.Cleanup(srv.Close)

	u, _ := url.Parse(srv.URL)

	return &testOrigin{counter: c, url: u, srv: srv, pres: p}
}

// playlistPath is the media playlist of the 360p rendition.
const playlistPath = "/in1/manifest/360p/index.m3u8"

// segments returns the paths of the 360p rendition's media segments, read
// from the origin's playlist.
func (o *testOrigin) segments(t *testing.T) []string {
	t.Helper()

	data, err := o.pres.MediaPlaylist("360p")
	if err != nil {
		t.Fatal(err)
	}

	var paths []string

	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasSuffix(line, ".m4s") {
			paths = append(paths, "/in1/manifest/360p/"+line)
		}
	}

	if len(paths) < 2 {
		t.Fatalf("playlist lists %d segments:\n%s", len(paths), data)
	}

	return paths
}

// fakeClock is a Clock that moves only when told.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()

	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// newEdge starts c in front of origins and serves it; it returns the base URL.
func newEdge(t *testing.T, c *Cache, origins ...*url.URL) string {
	t.Helper()

	c.Origins = origins
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}

	srv := httptest.NewServer(c.Handler())
	t.Cleanup(func() {
		srv.Close()
		c.Close()
	})

	return srv.URL
}

// get fetches url with the request headers in hdr.
func get(t *testing.T, url string, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()

	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}

	for k, v := range hdr {
		req.Header.Set(k, v)
	}

	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()

	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}

	return resp, body
}

func itoa(n int) string { return strconv.Itoa(n) }

// netListen listens on addr again, after the test stopped what was there.
func netListen(addr string) (net.Listener, error) {
	return net.Listen("tcp", addr)
}

// freeAddr returns a loopback address that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}

	addr := ln.Addr().String()
	ln.Close()

	return addr
}
