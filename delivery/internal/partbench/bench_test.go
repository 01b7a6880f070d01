package partbench

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/onair/onair/delivery"
	"github.com/onair/onair/delivery/edge"
	"github.com/onair/onair/ingest/stream"
	"github.com/onair/onair/internal/samples"
	"github.com/onair/onair/packager"
	"github.com/onair/onair/transcode"
)

// hubQueue is the transcoder's reader queue, in units, as an input's.
const hubQueue = 512

// clip returns the 432p sample clip (a two-rung ladder), or a testsrc2 clip
// of the same shape made in dir when the samples are missing.
func clip(b *testing.B) string {
	b.Helper()

	path := samples.Path("car-detection-432p.mp4")
	if _, err := os.Stat(path); err == nil {
		return path
	}

	path = filepath.Join(b.TempDir(), "testsrc-432p.mp4")

	out, err := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error",
		"-f", "lavfi", "-i", "testsrc2=size=768x432:rate=25/2:duration=30",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=30",
		"-c:v", "libx264", "-g", "60", "-c:a", "aac", "-shortest", path).CombinedOutput()
	if err != nil {
		b.Fatalf("make clip: %v: %s", err, out)
	}

	return path
}

// media is a clip read into memory: its tracks and units in file order.
type media struct {
	tracks []*stream.Track
	units  []*stream.Unit
}

func load(b *testing.B, path string) *media {
	b.Helper()

	m := &media{}

	err := transcode.ReadFile(context.Background(), path,
		func(tracks []*stream.Track) (func(*stream.Unit), error) {
			m.tracks = tracks

			return func(u *stream.Unit) { m.units = append(m.units, u) }, nil
		})
	if err != nil {
		b.Fatal(err)
	}

	return m
}

// arrival is a picture of the top rung as the packager received it.
type arrival struct {
	pts time.Duration // relative to the transcoder's first unit
	at  time.Time
}

// timingSink is the presentation, noting when each picture of the top rung
// reaches it.
type timingSink struct {
	pres *packager.Presentation

	mu       sync.Mutex
	top      *stream.Track
	arrivals []arrival
	started  chan struct{}
}

// Start implements transcode.Sink.
func (s *timingSink) Start(tracks []*stream.Track) error {
	s.mu.Lock()
	s.top = tracks[0]
	s.mu.Unlock()

	err := s.pres.Start(tracks)
	close(s.started)

	return err
}

// Write implements transcode.Sink.
func (s *timingSink) Write(u *stream.Unit) {
	s.mu.Lock()
	if u.Track == s.top {
		s.arrivals = append(s.arrivals, arrival{pts: u.PTS, at: time.Now()})
	}
	s.mu.Unlock()

	s.pres.Write(u)
}

// End implements transcode.Sink.
func (s *timingSink) End() { s.pres.End() }

// one serves a single presentation under the id "in".
type one struct{ p *packager.Presentation }

func (o one) Presentation(id string) (*packager.Presentation, bool) {
	return o.p, id == "in"
}

// fetched is a part of the top rung as the client got it.
type fetched struct {
	msn     uint64
	samples int
	at      time.Time
}

// BenchmarkPartLatency plays a clip into an input's hub at its own pace,
// through the transcoder and the packager, while a client asks the origin
// over HTTP for every part of the top rung before it exists, as an LL-HLS
// player does with preload hints. For each part it takes the part's first
// picture and measures: frame-to-part, from its write into the hub to the
// part's answer; the encoder's delay, from the hub to the packager; and
// packager-to-part, the rest. The target is frame-to-part under one part
// duration plus the encoder's delay. It runs with the client on the origin,
// then on an edge in front of it. Run with -benchtime 1x: one pass plays the
// whole clip in real time.
func BenchmarkPartLatency(b *testing.B) {
	m := load(b, clip(b))

	for _, via := range []string{"origin", "edge"} {
		b.Run(via, func(b *testing.B) {
			for range b.N {
				r := run(b, m, via == "edge")
				r.report(b, via)
			}
		})
	}
}

// result is one pass's measurements, one entry per measured part.
type result struct {
	partTarget                       time.Duration
	frameToPart, encoder, packToPart []time.Duration

	// meetsTarget and meetsOwn count the parts whose first picture was
	// fetchable within PART-TARGET, or within the part's own duration, plus
	// the encoder's delay.
	meetsTarget, meetsOwn, unmatched int
}

func run(b *testing.B, m *media, viaEdge bool) *result {
	b.Helper()

	log := slog.New(slog.DiscardHandler)
	pres := &packager.Presentation{Log: log}
	sink := &timingSink{pres: pres, started: make(chan struct{})}

	bc := stream.NewBroadcast(m.tracks, log)
	pipe := &transcode.Pipeline{Reader: bc.NewReader("transcode", hubQueue), Sink: sink,
		Log: log, KeepLadder: true}

	if err := pipe.Start(); err != nil {
		b.Fatal(err)
	}

	srv := httptest.NewServer((&delivery.Origin{Presentations: one{pres}}).Handler())
	defer srv.Close()

	base := srv.URL
	if viaEdge {
		base = startEdge(b, srv.URL)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	hub := map[time.Duration]time.Time{} // by PTS relative to the first unit
	paced := make(chan struct{})

	go func() {
		defer close(paced)
		pace(ctx, bc, m.units, hub)
	}()

	var parts []fetched

	fetchDone := make(chan error, 1)

	go func() {
		var err error
		parts, err = fetchParts(ctx, base, sink)
		fetchDone <- err
	}()

	<-paced
	bc.Close(io.EOF)
	<-pipe.Done()
	pipe.Close()
	cancel()

	if err := <-fetchDone; err != nil && !errors.Is(err, context.Canceled) {
		b.Fatal(err)
	}

	sink.mu.Lock()
	defer sink.mu.Unlock()

	return measure(pres.PartDuration, parts, sink.arrivals, hub)
}

// startEdge starts an edge cache in front of origin and returns its URL.
func startEdge(b *testing.B, origin string) string {
	b.Helper()

	u, err := url.Parse(origin)
	if err != nil {
		b.Fatal(err)
	}

	c := &edge.Cache{Origins: []*url.URL{u}, Log: slog.New(slog.DiscardHandler)}
	if err := c.Start(); err != nil {
		b.Fatal(err)
	}

	srv := httptest.NewServer(c.Handler())
	b.Cleanup(func() {
		srv.Close()
		c.Close()
	})

	return srv.URL
}

// pace writes units into the hub at the clip's own pace, noting when each
// picture went in.
func pace(ctx context.Context, bc *stream.Broadcast, units []*stream.Unit,
	hub map[time.Duration]time.Time) {
	start, first := time.Now(), units[0].DTS

	// The transcoder's timestamps count from its first unit, the first
	// keyframe.
	origin, found := time.Duration(0), false
	for _, u := range units {
		if u.Track.IsVideo() && u.Key {
			origin, found = u.PTS, true

			break
		}
	}

	if !found {
		return
	}

	for _, u := range units {
		wait := time.Until(start.Add(u.DTS - first))

		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}

		if u.Track.IsVideo() {
			hub[(u.PTS - origin).Round(time.Millisecond)] = time.Now()
		}

		bc.Write(u)
	}
}

// fetchParts asks for every part of the top rung in turn, each before it
// exists, until ctx ends.
func fetchParts(ctx context.Context, base string, sink *timingSink) ([]fetched, error) {
	select {
	case <-sink.started:
	case <-ctx.Done():
		return nil, ctx.Err()
	}

	sink.mu.Lock()
	name := sink.top.Name
	sink.mu.Unlock()

	prefix := base + "/in/manifest/" + name + "/" + sink.pres.Session() + "/"

	var out []fetched

	for msn, idx := uint64(0), 0; ; {
		url := fmt.Sprintf("%spart_%d_%d.m4s", prefix, msn, idx)

		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)

		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return out, err
		}

		body, err := io.ReadAll(resp.Body)
		at := time.Now()
		resp.Body.Close()

		switch {
		case err != nil:
			return out, err
		case resp.StatusCode == http.StatusNotFound && idx == 0:
			// The part was not there within the origin's wait: the
			// transcoder is still starting. Ask again.
			continue
		case resp.StatusCode == http.StatusNotFound:
			msn, idx = msn+1, 0 // the segment ended before this part

			continue
		case resp.StatusCode != http.StatusOK:
			return out, fmt.Errorf("%s: status %d", url, resp.StatusCode)
		}

		n, err := sampleCount(body)
		if err != nil {
			return out, fmt.Errorf("%s: %w", url, err)
		}

		out = append(out, fetched{msn: msn, samples: n, at: at})
		idx++
	}
}

// sampleCount reads the sample_count of a part's trun box (ISO/IEC
// 14496-12 8.8.8): a part is one moof, of one traf, before its mdat.
func sampleCount(part []byte) (int, error) {
	for off := 0; off+8 <= len(part); {
		size := int(binary.BigEndian.Uint32(part[off:]))
		typ := string(part[off+4 : off+8])

		switch {
		case size < 8 || off+size > len(part):
			return 0, fmt.Errorf("box %q of %d bytes at %d overruns the part", typ, size, off)
		case typ == "moof" || typ == "traf":
			off += 8
		case typ == "trun" && size >= 16:
			return int(binary.BigEndian.Uint32(part[off+12:])), nil
		default:
			off += size
		}
	}

	return 0, errors.New("no trun box")
}

// measure pairs each part with its pictures, in order, and those with their
// hub and packager times. Segment 0 is left out: the transcoder starts then.
func measure(partTarget time.Duration, parts []fetched, arrivals []arrival,
	hub map[time.Duration]time.Time) *result {
	r := &result{partTarget: partTarget}
	next := 0

	for _, p := range parts {
		first, last := next, next+p.samples-1
		next += p.samples

		if p.msn == 0 || last >= len(arrivals) {
			continue
		}

		in, ok := hub[arrivals[first].pts.Round(time.Millisecond)]
		if !ok {
			r.unmatched++

			continue
		}

		total := p.at.Sub(in)
		enc := arrivals[first].at.Sub(in)
		// The part lasts until the next picture, or, at the clip's end, its
		// last picture lasts as long as the others.
		duration := arrivals[last].pts - arrivals[first].pts
		if last+1 < len(arrivals) {
			duration = arrivals[last+1].pts - arrivals[first].pts
		} else if last > first {
			duration += duration / time.Duration(last-first)
		}

		r.frameToPart = append(r.frameToPart, total)
		r.encoder = append(r.encoder, enc)
		r.packToPart = append(r.packToPart, p.at.Sub(arrivals[last].at))

		if total < partTarget+enc {
			r.meetsTarget++
		}

		if total < duration+enc {
			r.meetsOwn++
		}
	}

	return r
}

// report prints the figures with the part target as the baseline.
func (r *result) report(b *testing.B, via string) {
	b.Helper()

	n := len(r.frameToPart)
	if n == 0 {
		b.Fatalf("no part measured (%d unmatched)", r.unmatched)
	}

	med := func(d []time.Duration) time.Duration {
		s := slices.Clone(d)
		slices.Sort(s)

		return s[len(s)/2]
	}

	pct := func(d []time.Duration, q float64) time.Duration {
		s := slices.Clone(d)
		slices.Sort(s)

		return s[min(len(s)-1, int(q*float64(len(s))))]
	}

	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	total, enc := med(r.frameToPart), med(r.encoder)

	fmt.Printf("LL-HLS part latency from the %s over %d parts (baseline: part target %v)\n",
		via, n, r.partTarget)
	fmt.Printf("  frame to part      median %6.0f ms  p95 %6.0f ms  = %.2fx part target\n",
		ms(total), ms(pct(r.frameToPart, 0.95)), ms(total)/ms(r.partTarget))
	fmt.Printf("  encoder delay      median %6.0f ms  p95 %6.0f ms\n", ms(enc),
		ms(pct(r.encoder, 0.95)))
	fmt.Printf("  last frame to part median %6.0f ms  p95 %6.0f ms\n", ms(med(r.packToPart)),
		ms(pct(r.packToPart, 0.95)))
	fmt.Printf("  (frame to part - encoder delay) / part target: %.2fx (target: under 1)\n",
		ms(total-enc)/ms(r.partTarget))
	fmt.Printf("  parts fetchable within part target + encoder delay: %d/%d, "+
		"within their own duration + encoder delay: %d/%d\n", r.meetsTarget, n, r.meetsOwn, n)

	b.ReportMetric(ms(total), "ms-frame-to-part")
	b.ReportMetric(ms(total)/ms(r.partTarget), "x-part-target")
	b.ReportMetric(ms(enc), "ms-encoder")
}
