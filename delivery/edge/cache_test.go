package edge

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"sync"
	"testing"
	"time"
)

func TestCacheCoalescesMisses(t *testing.T) {
	const viewers = 200

	o := newTestOrigin(t)
	seg := o.segments(t)[1]
	want := func() []byte { _, b := get(t, o.srv.URL+seg, nil); return b }()

	c := &Cache{}

	// The origin holds the one fetch until every viewer waits for it.
	release := make(chan struct{})
	o.mu.Lock()
	o.gate = func(r *http.Request) {
		if r.URL.Path == seg {
			<-release
		}
	}
	o.mu.Unlock()

	base := newEdge(t, c, o.url)

	var wg sync.WaitGroup

	bodies := make([][]byte, viewers)
	states := make([]string, viewers)

	for i := range viewers {
		wg.Add(1)

		go func() {
			defer wg.Done()

			resp, err := http.Get(base + seg)
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()

			var b bytes.Buffer
			b.ReadFrom(resp.Body)
			bodies[i], states[i] = b.Bytes(), resp.Header.Get("X-Cache")
		}()
	}

	for {
		s := c.Stats()
		if s.Misses+s.Coalesced == viewers {
			break
		}

		time.Sleep(time.Millisecond)
	}

	close(release)
	wg.Wait()

	if n := o.count(seg) - 1; n != 1 {
		t.Errorf("origin requests for the segment through the edge: %d, want 1", n)
	}

	count := map[string]int{}
	for i := range viewers {
		count[states[i]]++

		if !bytes.Equal(bodies[i], want) {
			t.Fatalf("viewer %d got %d bytes, want the origin's %d", i, len(bodies[i]), len(want))
		}
	}

	if count[xMiss] != 1 || count[xCoalesced] != viewers-1 {
		t.Errorf("X-Cache: %v, want 1 MISS and %d COALESCED", count, viewers-1)
	}
}

func TestCacheFreshness(t *testing.T) {
	o := newTestOrigin(t)
	seg := o.segments(t)[0]
	clock := newFakeClock()
	base := newEdge(t, &Cache{Clock: clock.Now}, o.url)

	tests := []struct {
		name    string
		path    string
		advance time.Duration
		state   string
		origin  int // origin requests for path so far
	}{
		{"playlist first", playlistPath, 0, xMiss, 1},
		{"playlist again", playlistPath, 0, xHit, 1},
		{"playlist within its ttl", playlistPath, 200 * time.Millisecond, xHit, 1},
		{"playlist past its ttl", playlistPath, 100 * time.Millisecond, xMiss, 2},
		{"segment first", seg, 0, xMiss, 1},
		{"segment an hour on", seg, time.Hour, xHit, 1},
		{"segment 23 hours on", seg, 22 * time.Hour, xHit, 1},
		{"segment past its max-age", seg, 2 * time.Hour, xMiss, 2},
		{"playlist a day on", playlistPath, 0, xMiss, 3},
	}

	for _, tt := range tests {
		clock.Advance(tt.advance)

		resp, _ := get(t, base+tt.path, nil)
		if got := resp.Header.Get("X-Cache"); got != tt.state || resp.StatusCode != 200 {
			t.Errorf("%s: %d X-Cache %q, want 200 %q", tt.name, resp.StatusCode, got, tt.state)
		}

		if got := o.count(tt.path); got != tt.origin {
			t.Errorf("%s: %d origin requests, want %d", tt.name, got, tt.origin)
		}
	}
}

func TestCacheHeaders(t *testing.T) {
	o := newTestOrigin(t)
	seg := o.segments(t)[0]
	clock := newFakeClock()
	base := newEdge(t, &Cache{Clock: clock.Now}, o.url)

	direct, whole := get(t, o.srv.URL+seg, nil)
	etag := direct.Header.Get("ETag")

	get(t, base+seg, nil)
	clock.Advance(90 * time.Second)

	tests := []struct {
		name   string
		hdr    map[string]string
		status int
		body   []byte
		check  map[string]string
	}{
		{"plain", nil, 200, whole, map[string]string{
			"Cache-Control":               direct.Header.Get("Cache-Control"),
			"ETag":                        etag,
			"Age":                         "90",
			"Access-Control-Allow-Origin": "*",
			"Content-Type":                "video/mp4",
			"X-Cache":                     xHit,
		}},
		{"if-none-match", map[string]string{"If-None-Match": etag}, 304, nil,
			map[string]string{"ETag": etag}},
		{"if-none-match stale", map[string]string{"If-None-Match": `"0"`}, 200, whole, nil},
		{"range", map[string]string{"Range": "bytes=10-109"}, 206, whole[10:110],
			map[string]string{"Content-Range": "bytes 10-109/" + itoa(len(whole))}},
	}

	for _, tt := range tests {
		resp, body := get(t, base+seg, tt.hdr)
		if resp.StatusCode != tt.status || !bytes.Equal(body, tt.body) {
			t.Errorf("%s: %d with %d bytes, want %d with %d", tt.name, resp.StatusCode,
				len(body), tt.status, len(tt.body))
		}

		for k, v := range tt.check {
			if got := resp.Header.Get(k); got != v {
				t.Errorf("%s: %s %q, want %q", tt.name, k, got, v)
			}
		}
	}

	if o.count(seg) != 2 {
		t.Errorf("origin requests: %d, want 2 (one direct, one through the edge)", o.count(seg))
	}
}

func TestCacheEviction(t *testing.T) {
	o := newTestOrigin(t)
	segs := o.segments(t)
	_, first := get(t, o.srv.URL+segs[0], nil)

	// Room for the first segment and the largest of the others, not for all
	// three: reading them all must evict the first, and reading the first
	// again must leave the last in place.
	largest := 0
	for _, seg := range segs[1:] {
		_, body := get(t, o.srv.URL+seg, nil)
		largest = max(largest, len(body))
	}

	limit := int64(len(first)+largest) + 2*entryOverhead + 256
	c := &Cache{MaxBytes: limit, MaxObjectBytes: limit}
	base := newEdge(t, c, o.url)

	for _, s := range segs {
		resp, _ := get(t, base+s, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", s, resp.StatusCode)
		}

		if st := c.Stats(); st.Bytes > limit {
			t.Fatalf("after %s: %d bytes held, limit %d", s, st.Bytes, limit)
		}
	}

	resp, _ := get(t, base+segs[0], nil)
	if resp.Header.Get("X-Cache") != xMiss || o.count(segs[0]) != 3 {
		t.Errorf("first segment after eviction: X-Cache %q, %d origin requests, want MISS and 3",
			resp.Header.Get("X-Cache"), o.count(segs[0]))
	}

	last := segs[len(segs)-1]
	if resp, _ := get(t, base+last, nil); resp.Header.Get("X-Cache") != xHit {
		t.Errorf("last segment: X-Cache %q, want HIT", resp.Header.Get("X-Cache"))
	}
}

func TestCacheLargeObjectPassesThrough(t *testing.T) {
	o := newTestOrigin(t)
	seg := o.segments(t)[0]
	_, want := get(t, o.srv.URL+seg, nil)

	c := &Cache{MaxObjectBytes: int64(len(want)) / 2}
	base := newEdge(t, c, o.url)

	for i, tt := range []struct {
		hdr    map[string]string
		status int
		body   []byte
	}{
		{nil, 200, want},
		{nil, 200, want},
		{map[string]string{"Range": "bytes=0-99"}, 206, want[:100]},
	} {
		resp, body := get(t, base+seg, tt.hdr)
		if resp.StatusCode != tt.status || !bytes.Equal(body, tt.body) {
			t.Errorf("request %d: %d with %d bytes, want %d with %d", i, resp.StatusCode,
				len(body), tt.status, len(tt.body))
		}

		if resp.Header.Get("X-Cache") != xPass {
			t.Errorf("request %d: X-Cache %q, want PASS", i, resp.Header.Get("X-Cache"))
		}
	}

	if st := c.Stats(); st.Bytes > entryOverhead+int64(len(seg)) {
		t.Errorf("%d bytes held after streaming a large object", st.Bytes)
	}
}

func TestCacheNotFound(t *testing.T) {
	o := newTestOrigin(t)
	clock := newFakeClock()
	base := newEdge(t, &Cache{Clock: clock.Now}, o.url)

	const missing = "/in1/manifest/360p/nosuch/seg_999.m4s"

	tests := []struct {
		advance time.Duration
		state   string
		origin  int
	}{
		{0, xMiss, 1},
		{0, xHit, 1},
		{500 * time.Millisecond, xHit, 1},
		{600 * time.Millisecond, xMiss, 2},
	}

	for i, tt := range tests {
		clock.Advance(tt.advance)

		resp, _ := get(t, base+missing, nil)
		if resp.StatusCode != 404 || resp.Header.Get("X-Cache") != tt.state {
			t.Errorf("request %d: %d %q, want 404 %q", i, resp.StatusCode,
				resp.Header.Get("X-Cache"), tt.state)
		}

		if got := o.count(missing); got != tt.origin {
			t.Errorf("request %d: %d origin requests, want %d", i, got, tt.origin)
		}
	}
}

func TestCacheOriginDownAndBack(t *testing.T) {
	o := newTestOrigin(t)
	seg := o.segments(t)[0]
	addr := freeAddr(t)
	u, _ := url.Parse("http://" + addr)
	base := newEdge(t, &Cache{}, u)

	resp, body := get(t, base+seg, nil)
	if resp.StatusCode != http.StatusBadGateway || !bytes.Contains(body, []byte("unreachable")) {
		t.Fatalf("origin down: %d %q, want 502 saying unreachable", resp.StatusCode, body)
	}

	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("origin down: Cache-Control %q, want no-store", cc)
	}

	back := httptest.NewUnstartedServer(o.counter)

	ln, err := netListen(addr)
	if err != nil {
		t.Fatal(err)
	}

	back.Listener = ln
	back.Start()
	t.Cleanup(back.Close)

	resp, _ = get(t, base+seg, nil)
	if resp.StatusCode != 200 {
		t.Errorf("origin back: %d, want 200", resp.StatusCode)
	}
}

func TestCacheFailover(t *testing.T) {
	o := newTestOrigin(t)
	segs := o.segments(t)
	down, _ := url.Parse("http://" + freeAddr(t))

	tests := []struct {
		name    string
		origins []*url.URL
	}{
		{"down first", []*url.URL{down, o.url}},
		{"down second", []*url.URL{o.url, down}},
	}

	for i, tt := range tests {
		base := newEdge(t, &Cache{}, tt.origins...)

		resp, _ := get(t, base+segs[i], nil)
		if resp.StatusCode != 200 {
			t.Errorf("%s: %d, want 200 from the origin that is up", tt.name, resp.StatusCode)
		}
	}
}

func TestCacheOriginTimeout(t *testing.T) {
	o := newTestOrigin(t)
	seg := o.segments(t)[0]

	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })

	o.mu.Lock()
	o.gate = func(r *http.Request) {
		select {
		case <-stop:
		case <-r.Context().Done():
		}
	}
	o.mu.Unlock()

	base := newEdge(t, &Cache{Timeout: 100 * time.Millisecond}, o.url)

	resp, body := get(t, base+seg, nil)
	if resp.StatusCode != http.StatusGatewayTimeout || !bytes.Contains(body, []byte("timed out")) {
		t.Errorf("slow origin: %d %q, want 504 saying timed out", resp.StatusCode, body)
	}
}

func TestCachePlaysWithFFprobe(t *testing.T) {
	o := newTestOrigin(t)
	base := newEdge(t, &Cache{}, o.url)

	var stderr bytes.Buffer

	cmd := exec.Command("ffprobe", "-v", "error", "-count_frames", "-show_entries",
		"stream=codec_name,nb_read_frames", "-of", "json", base+"/in1/manifest/video.m3u8")
	cmd.Stderr = &stderr

	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ffprobe: %v: %s", err, stderr.String())
	}

	var res struct {
		Streams []struct {
			CodecName  string `json:"codec_name"`
			ReadFrames string `json:"nb_read_frames"`
		}
	}

	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}

	decoded := map[string]bool{}
	for _, s := range res.Streams {
		decoded[s.CodecName] = s.ReadFrames != "" && s.ReadFrames != "0"
	}

	if !decoded["h264"] || !decoded["aac"] {
		t.Errorf("ffprobe through the edge decoded %+v, want h264 and aac frames", res.Streams)
	}
}
