package main

import (
	"context"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"
)

// startTestEdge starts `onair edge` in front of origin with its API token.
func startTestEdge(t *testing.T, origin *testNode) *edgeNode {
	t.Helper()

	cfg, err := loadEdgeConfig([]string{"--origin", origin.base, "--http", "127.0.0.1:0",
		"--api-token", origin.cfg.APIToken, "--country-header", "X-Country"},
		func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}

	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	e := &edgeNode{cfg: cfg, log: log}

	if err := e.Start(); err != nil {
		t.Fatal(err)
	}

	t.Cleanup(func() { e.Shutdown(context.Background()) })

	return e
}

// clientFrom is an HTTP client whose connections leave from local address ip.
func clientFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}

	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
}

func statusWith(t *testing.T, c *http.Client, url string, header map[string]string) (int,
	http.Header) {
	t.Helper()

	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}

	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}

	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()

	return resp.StatusCode, resp.Header
}

// TestEdgeEnforcesRules plays a private input through an edge and wants the
// edge to refuse what the origin refuses, expired tokens included when the
// object is in its cache, and to apply address rules to its own viewers.
func TestEdgeEnforcesRules(t *testing.T) {
	n, _ := startViewsNode(t)
	e := startTestEdge(t, n)
	edgeBase := "http://" + e.ln.Addr().String()

	var li liveInput
	if code := n.call(t, "POST", "/stream/live_inputs", map[string]any{"recording": map[string]any{
		"requireSignedURLs": true}}, &li); code != 200 {
		t.Fatalf("create: %d", code)
	}

	pub := startFFmpeg(t, append(lavfi(true, false, 8), "-c:v", "libx264", "-preset",
		"ultrafast", "-g", "25", "-s", "320x240", "-f", "flv", n.rtmp+li.RTMP.StreamKey)...)
	t.Cleanup(func() { pub.cmd.Process.Kill() })

	kid, key := n.apiKey(t)
	now := time.Now().Unix()
	token := func(extra map[string]any) string {
		c := map[string]any{"sub": li.UID, "kid": kid, "exp": now + 300}
		for k, v := range extra {
			c[k] = v
		}

		return jwt(t, key, kid, c)
	}

	good := token(nil)
	master := func(base, id string) string { return base + "/" + id + "/manifest/video.m3u8" }
	mv := waitVariants(t, master(edgeBase, good), 1, 1)
	media := mv.variants[0].uri

	local := http.DefaultClient
	other := clientFrom("127.0.0.2")
	onlyOther := token(map[string]any{"accessRules": []any{
		map[string]any{"type": "ip.src", "action": "allow", "ip": []string{"127.0.0.2/32"}},
		map[string]any{"type": "any", "action": "block"}}})

	cases := []struct {
		name   string
		client *http.Client
		url    string
		want   int
	}{
		{"bare uid at the edge", local, master(edgeBase, li.UID), 401},
		{"token at the edge", local, master(edgeBase, good), 200},
		{"media playlist under the token", local, edgeBase + "/" + good + "/manifest/" + media, 200},
		{"tampered at the edge", local, master(edgeBase, good[:len(good)-4]+"AAAA"), 401},
		{"not yet valid at the edge", local, master(edgeBase,
			token(map[string]any{"nbf": now + 600})), 401},
		{"address allowed at the edge", other, master(edgeBase, onlyOther), 200},
		{"address refused at the edge", local, master(edgeBase, onlyOther), 403},
		{"address refused at the origin", local, master(n.base, onlyOther), 403},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got, _ := statusWith(t, tc.client, tc.url, nil); got != tc.want {
				t.Errorf("status %d, want %d", got, tc.want)
			}
		})
	}

	t.Run("expired while cached", func(t *testing.T) {
		// A segment: the edge keeps it for its whole life.
		short := token(map[string]any{"exp": time.Now().Unix() + 3})
		playlistURL := edgeBase + "/" + short + "/manifest/" + media
		_, _, body := httpGet(t, playlistURL)
		url := resolve(playlistURL, parsePlaylist(t, body).uris[0])

		for _, want := range []string{"MISS", "HIT"} {
			got, hdr := statusWith(t, local, url, nil)
			if got != 200 || hdr.Get("X-Cache") != want {
				t.Fatalf("before expiry: %d, X-Cache %q, want 200 %s", got, hdr.Get("X-Cache"),
					want)
			}
		}

		waitStatus(t, url, nil, 401)
	})

	t.Run("allowed origins at the edge", func(t *testing.T) {
		if code := n.call(t, "PUT", "/stream/live_inputs/"+li.UID, map[string]any{
			"recording": map[string]any{"allowedOrigins": []string{"*.example.com"}}},
			nil); code != 200 {
			t.Fatalf("PUT: %d", code)
		}

		url := master(edgeBase, good)
		waitStatus(t, url, map[string]string{"Origin": "https://evil.test"}, 403)

		got, hdr := statusWith(t, local, url, map[string]string{"Origin": "https://a.example.com"})
		if got != 200 || hdr.Get("Access-Control-Allow-Origin") != "https://a.example.com" {
			t.Errorf("allowed origin: %d, Access-Control-Allow-Origin %q", got,
				hdr.Get("Access-Control-Allow-Origin"))
		}
	})
}

// TestEdgeReportsViews has readers play through an edge and one play from
// the origin directly, and wants the origin's analytics to count every
// reader once, from the media they were sent, and none of the edge's own
// fetches.
func TestEdgeReportsViews(t *testing.T) {
	n, _ := startViewsNode(t)
	e := startTestEdge(t, n)
	edgeBase := "http://" + e.ln.Addr().String()
	li := n.createInput(t)

	pub := startFFmpeg(t, append(lavfi(true, true, 10), "-c:v", "libx264", "-preset",
		"ultrafast", "-g", "25", "-s", "320x240", "-c:a", "aac", "-f", "flv",
		n.rtmp+li.RTMP.StreamKey)...)
	t.Cleanup(func() { pub.cmd.Process.Kill() })

	const segments = 2

	type source struct {
		base    string
		readers []reader
	}

	sources := []source{
		{edgeBase, []reader{{"e1", "GB"}, {"e2", "GB"}, {"e3", "DE"}}},
		{n.base, []reader{{"o1", "FR"}}},
	}

	sent := 0.0
	total := 0

	for _, s := range sources {
		master := s.base + "/" + li.UID + "/manifest/video.m3u8"
		mv := waitVariants(t, master, 1, segments)
		media := resolve(master, mv.variants[0].uri)
		audio := ""

		if u := audioURI(mv); u != "" {
			audio = resolve(master, u)
		}

		if sent == 0 {
			for _, d := range waitSegments(t, media, segments).extinf[:segments] {
				sent += d
			}
		}

		var wg sync.WaitGroup

		errs := make(chan error, len(s.readers))
		for _, r := range s.readers {
			wg.Go(func() { errs <- r.play(master, mv, media, audio, segments) })
		}

		wg.Wait()
		close(errs)

		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}

		total += len(s.readers)
	}

	if err := e.reports.Send(); err != nil {
		t.Fatal(err)
	}

	if err := n.views.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}

	var minutes float64
	views := map[string]int64{}

	for _, r := range queryViews(t, n, "uid,liveInput,clientCountryName") {
		if r.Dimensions["liveInput"] != li.UID {
			t.Errorf("row %+v: want liveInput %s", r, li.UID)
		}

		minutes += r.MinutesViewed
		views[r.Dimensions["clientCountryName"]] += r.Views
	}

	want := sent * float64(total) / 60
	t.Logf("minutes viewed %.4f, expected %.4f", minutes, want)

	if math.Abs(minutes-want) > 0.02*want {
		t.Errorf("minutes viewed %.4f, want %.4f (%d readers x %.3f s) within 2%%", minutes,
			want, total, sent)
	}

	// The test's own polling, at the edge and at the origin, is one more
	// session, without a country.
	if views["GB"] != 2 || views["DE"] != 1 || views["FR"] != 1 || views["XX"] != 1 {
		t.Errorf("views by country %v, want GB 2, DE 1, FR 1, XX 1", views)
	}
}
