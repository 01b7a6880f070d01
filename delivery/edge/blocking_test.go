package edge

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"
)

// TestCacheBlockingReload plays an LL-HLS origin that holds blocking reloads
// until the test lets them go: each (playlist, msn, part) must reach it once
// however many viewers ask, and the answers must be shared.
func TestCacheBlockingReload(t *testing.T) {
	const viewers = 50

	release := make(chan struct{})
	origin := &counter{
		next: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			q := r.URL.Query()
			w.Header().Set("Content-Type", "application/vnd.apple.mpegurl")
			w.Header().Set("Cache-Control", "max-age=6")
			fmt.Fprintf(w, "#EXTM3U\n# msn=%s part=%s\n", q.Get("_HLS_msn"), q.Get("_HLS_part"))
		}),
		gate: func(r *http.Request) {
			if r.URL.Query().Has("_HLS_msn") {
				<-release
			}
		},
	}

	srv := httptest.NewServer(origin)
	t.Cleanup(srv.Close)

	u, _ := url.Parse(srv.URL)
	c := &Cache{Clock: newFakeClock().Now}
	base := newEdge(t, c, u)

	requests := []struct {
		query  string // sent by viewers, with a parameter the key leaves out
		origin string // what the origin must see, once
		body   string
	}{
		{"?_HLS_msn=7&_HLS_part=1&v=1", "/in1/v/index.m3u8?_HLS_msn=7&_HLS_part=1",
			"#EXTM3U\n# msn=7 part=1\n"},
		{"?_HLS_part=2&_HLS_msn=7&v=2", "/in1/v/index.m3u8?_HLS_msn=7&_HLS_part=2",
			"#EXTM3U\n# msn=7 part=2\n"},
		{"?_HLS_msn=8", "/in1/v/index.m3u8?_HLS_msn=8", "#EXTM3U\n# msn=8 part=\n"},
	}

	var wg sync.WaitGroup

	bodies := make([]string, viewers*len(requests))

	for i := range bodies {
		wg.Add(1)

		go func() {
			defer wg.Done()

			resp, err := http.Get(base + "/in1/v/index.m3u8" + requests[i%len(requests)].query)
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()

			b, _ := io.ReadAll(resp.Body)
			bodies[i] = string(b)
		}()
	}

	for {
		s := c.Stats()
		if s.Misses+s.Coalesced == int64(len(bodies)) {
			break
		}

		time.Sleep(time.Millisecond)
	}

	close(release)
	wg.Wait()

	for i, b := range bodies {
		if want := requests[i%len(requests)].body; b != want {
			t.Fatalf("viewer %d got %q, want %q", i, b, want)
		}
	}

	for _, r := range requests {
		if n := origin.count(r.origin); n != 1 {
			t.Errorf("%s: %d origin requests, want 1", r.origin, n)
		}
	}

	if n := origin.total(); n != len(requests) {
		t.Errorf("%d origin requests in all, want %d", n, len(requests))
	}

	// Answered, a blocking reload is served from the cache for a while.
	resp, _ := get(t, base+"/in1/v/index.m3u8"+requests[0].query, nil)
	if resp.Header.Get("X-Cache") != xHit {
		t.Errorf("repeated blocking reload: X-Cache %q, want HIT", resp.Header.Get("X-Cache"))
	}
}
