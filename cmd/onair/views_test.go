package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// viewClock is the settable analytics clock of a test node.
type viewClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *viewClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()

	return time.Now().Add(c.offset)
}

func (c *viewClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()

	c.offset += d
}

// startViewsNode starts a node whose viewers' countries come from the
// X-Country header (unless opts change it) and whose analytics clock the test
// moves.
func startViewsNode(t *testing.T, opts ...func(*config)) (*testNode, *viewClock) {
	t.Helper()

	cfg := &config{
		Data:          t.TempDir(),
		HTTP:          "127.0.0.1:0",
		RTMP:          "127.0.0.1:0",
		PublicURL:     "http://127.0.0.1:8080",
		HWAccel:       "none",
		LogLevel:      "info",
		LogFormat:     "text",
		CountryHeader: "X-Country",
	}

	for _, o := range opts {
		o(cfg)
	}

	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}

	clk := &viewClock{}
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	n := &node{cfg: cfg, log: log, viewClock: clk.now}

	if err := n.Start(); err != nil {
		t.Fatal(err)
	}

	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()

		if err := n.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})

	return &testNode{node: n, base: "http://" + n.httpLn.Addr().String(),
		rtmp: "rtmp://" + n.rtmpLn.Addr().String() + "/live/"}, clk
}

// reader is one HLS viewer: its own user agent and, for some, a country.
type reader struct {
	agent, country string
}

// fetch GETs url as r and reads the body.
func (r reader) fetch(url string) error {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("User-Agent", r.agent)

	if r.country != "" {
		req.Header.Set("X-Country", r.country)
	}

	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()

	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}

	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: status %d", url, resp.StatusCode)
	}

	return nil
}

// play fetches the multivariant playlist, the first variant's and the
// audio's media playlists, their init segments and their first n segments.
func (r reader) play(master string, mv *playlist, media, audio string, n int) error {
	urls := []string{master, media}
	if audio != "" {
		urls = append(urls, audio)
	}

	for _, pl := range []string{media, audio} {
		if pl == "" {
			continue
		}

		p, err := playlistOf(pl, n)
		if err != nil {
			return err
		}

		for _, tag := range p.tags {
			if strings.HasPrefix(tag, "#EXT-X-MAP:") {
				urls = append(urls, resolve(pl, parseAttrs(tag[len("#EXT-X-MAP:"):])["URI"]))
			}
		}

		for _, u := range p.uris[:n] {
			urls = append(urls, resolve(pl, u))
		}
	}

	for _, u := range urls {
		if err := r.fetch(u); err != nil {
			return err
		}
	}

	return nil
}

// playlistOf polls the media playlist at url until it lists n segments: the
// audio rendition may be a segment behind the video the test waited for.
func playlistOf(url string, n int) (*playlist, error) {
	deadline := time.Now().Add(30 * time.Second)

	for {
		code, _, body := httpGetQuiet(url)
		if code != http.StatusOK {
			return nil, fmt.Errorf("%s: status %d", url, code)
		}

		p := parsePlaylistQuiet(body)
		if len(p.uris) >= n {
			return p, nil
		}

		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%s lists %d segments, want %d", url, len(p.uris), n)
		}

		time.Sleep(100 * time.Millisecond)
	}
}

func httpGetQuiet(url string) (int, http.Header, string) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, nil, ""
	}
	defer resp.Body.Close()

	b, _ := io.ReadAll(resp.Body)

	return resp.StatusCode, resp.Header, string(b)
}

// parsePlaylistQuiet parses a playlist off the test's goroutine.
func parsePlaylistQuiet(body string) *playlist {
	return parsePlaylist(&testing.T{}, body)
}

// audioURI returns the URI of the multivariant playlist's audio rendition.
func audioURI(mv *playlist) string {
	for _, tag := range mv.tags {
		if strings.HasPrefix(tag, "#EXT-X-MEDIA:") {
			if a := parseAttrs(tag[len("#EXT-X-MEDIA:"):]); a["TYPE"] == "AUDIO" {
				return a["URI"]
			}
		}
	}

	return ""
}

// TestViewerAnalytics has concurrent HLS readers fetch a known set of
// segments, and wants the minutes viewed the API reports to match the media
// they were sent, a view per reader, countries from the header, and live
// viewer counts that follow readers joining and leaving.
func TestViewerAnalytics(t *testing.T) {
	n, clk := startViewsNode(t)
	li := n.createInput(t)

	pub := startFFmpeg(t, append(lavfi(true, true, 10), "-c:v", "libx264", "-preset",
		"ultrafast", "-g", "25", "-s", "320x240", "-c:a", "aac", "-f", "flv",
		n.rtmp+li.RTMP.StreamKey)...)
	t.Cleanup(func() { pub.cmd.Process.Kill() })

	const segments = 3

	master := n.base + "/" + li.UID + "/manifest/video.m3u8"
	mv := waitVariants(t, master, 1, segments)
	media := resolve(master, mv.variants[0].uri)
	audio := ""

	if u := audioURI(mv); u != "" {
		audio = resolve(master, u)
	}

	// What each reader is sent: the first segments of the video variant.
	sent := 0.0
	for _, d := range waitSegments(t, media, segments).extinf[:segments] {
		sent += d
	}

	readers := []reader{{"r1", "GB"}, {"r2", "gb"}, {"r3", ""}, {"r4", "FR"}, {"r5", "nowhere"}}

	var wg sync.WaitGroup
	errs := make(chan error, len(readers))

	for _, r := range readers {
		wg.Go(func() { errs <- r.play(master, mv, media, audio, segments) })
	}

	wg.Wait()
	close(errs)

	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}

	// The test's own polling of the playlists is one more viewer.
	checkLiveViewers(t, n, li.UID, len(readers)+1)

	metric := fmt.Sprintf("onair_live_viewers{input=%q} %d\n", li.UID, len(readers)+1)
	if _, _, body := httpGet(t, n.base+"/metrics"); !strings.Contains(body, metric) {
		t.Errorf("/metrics lacks %q", metric)
	}

	if err := n.views.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}

	rows := queryViews(t, n, "uid,liveInput,clientCountryName")
	want := sent * float64(len(readers)) / 60

	var minutes float64
	views := map[string]int64{}

	for _, r := range rows {
		if r.Dimensions["uid"] != li.UID || r.Dimensions["liveInput"] != li.UID {
			t.Errorf("row %+v: want uid and liveInput %s", r, li.UID)
		}

		minutes += r.MinutesViewed
		views[r.Dimensions["clientCountryName"]] += r.Views
	}

	t.Logf("minutes viewed %.4f, expected %.4f; audio %q", minutes, want, audio)

	if math.Abs(minutes-want) > 0.02*want {
		t.Errorf("minutes viewed %.4f, want %.4f (%d readers x %.3f s) within 2%%", minutes,
			want, len(readers), sent)
	}

	if views["GB"] != 2 || views["FR"] != 1 || views["XX"] != 3 {
		t.Errorf("views by country %v, want GB 2, FR 1, XX 3 (two readers and the test)",
			views)
	}

	t.Run("viewers leave", func(t *testing.T) {
		clk.add(20 * time.Second)

		if err := readers[0].fetch(media); err != nil {
			t.Fatal(err)
		}

		clk.add(15 * time.Second) // the others silent for 35 s
		checkLiveViewers(t, n, li.UID, 1)

		clk.add(31 * time.Second)
		checkLiveViewers(t, n, li.UID, 0)
	})

	t.Run("hidden count", func(t *testing.T) {
		if code := n.call(t, "PUT", "/stream/live_inputs/"+li.UID, map[string]any{
			"recording": map[string]any{"hideLiveViewerCount": true}}, nil); code != 200 {
			t.Fatalf("PUT: %d", code)
		}

		waitStatus(t, n.base+"/"+li.UID+"/views", nil, 404)
	})
}

func checkLiveViewers(t *testing.T, n *testNode, uid string, want int) {
	t.Helper()

	code, _, body := httpGet(t, n.base+"/"+uid+"/views")

	var v struct {
		LiveViewers *int `json:"liveViewers"`
	}

	if code != 200 || json.Unmarshal([]byte(body), &v) != nil || v.LiveViewers == nil ||
		*v.LiveViewers != want {
		t.Fatalf("views: %d %s, want liveViewers %d", code, body, want)
	}
}

// viewRow is a row of the views query.
type viewRow struct {
	Time          time.Time         `json:"time"`
	Dimensions    map[string]string `json:"dimensions"`
	MinutesViewed float64           `json:"minutesViewed"`
	Views         int64             `json:"views"`
}

func queryViews(t *testing.T, n *testNode, dims string) []viewRow {
	t.Helper()

	q := url.Values{"since": {time.Now().Add(-time.Hour).Format(time.RFC3339)},
		"until": {time.Now().Add(time.Hour).Format(time.RFC3339)}, "interval": {"minute"},
		"dimensions": {dims}}

	var rows []viewRow
	if code := n.call(t, "GET", "/stream/analytics/views?"+q.Encode(), nil, &rows); code != 200 {
		t.Fatalf("views query: %d", code)
	}

	return rows
}
