package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/onair/onair/internal/geoip/geoiptest"
)

// TestGeoIPCountries gives the node a MaxMind-format database placing
// 127.0.0.1 in New Zealand and 127.0.0.2 in Australia, and wants token
// country rules and analytics to follow it.
func TestGeoIPCountries(t *testing.T) {
	db := filepath.Join(t.TempDir(), "countries.mmdb")
	data := geoiptest.Build([]geoiptest.Network{
		{Prefix: "127.0.0.1/32", Country: "NZ"},
		{Prefix: "127.0.0.2/32", Country: "AU"},
	}, 28, 6)

	if err := os.WriteFile(db, data, 0o600); err != nil {
		t.Fatal(err)
	}

	n, _ := startViewsNode(t, func(c *config) { c.GeoIP = db })
	li := n.createInput(t)

	pub := startFFmpeg(t, append(lavfi(true, false, 6), "-c:v", "libx264", "-preset",
		"ultrafast", "-g", "25", "-s", "320x240", "-f", "flv", n.rtmp+li.RTMP.StreamKey)...)
	t.Cleanup(func() { pub.cmd.Process.Kill() })

	master := n.base + "/" + li.UID + "/manifest/video.m3u8"
	waitVariants(t, master, 1, 1)

	kid, key := n.apiKey(t)
	onlyAU := jwt(t, key, kid, map[string]any{"sub": li.UID, "kid": kid,
		"exp": time.Now().Unix() + 300, "accessRules": []any{
			map[string]any{"type": "ip.geoip.country", "action": "allow", "country": []string{"AU"}},
			map[string]any{"type": "any", "action": "block"}}})
	tokenURL := n.base + "/" + onlyAU + "/manifest/video.m3u8"

	cases := []struct {
		name string
		from string
		want int
	}{
		{"from Australia", "127.0.0.2", 200},
		{"from New Zealand", "127.0.0.1", 403},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got, _ := statusWith(t, clientFrom(tc.from), tokenURL, nil); got != tc.want {
				t.Errorf("status %d, want %d", got, tc.want)
			}
		})
	}

	if got, _ := statusWith(t, clientFrom("127.0.0.2"), master, nil); got != 200 {
		t.Fatalf("master from 127.0.0.2: %d", got)
	}

	if err := n.views.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}

	views := map[string]int64{}
	for _, r := range queryViews(t, n, "clientCountryName") {
		views[r.Dimensions["clientCountryName"]] += r.Views
	}

	// 127.0.0.1: the test's polling; 127.0.0.2: the token and the bare uid,
	// two sessions.
	if views["NZ"] != 1 || views["AU"] != 2 || len(views) != 2 {
		t.Errorf("views by country %v, want NZ 1, AU 2", views)
	}
}
