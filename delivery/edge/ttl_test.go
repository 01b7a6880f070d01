package edge

import (
	"net/http"
	"testing"
	"time"
)

func TestTTL(t *testing.T) {
	c := &Cache{Origins: nil}
	c.setDefaults()

	llhls := []byte("#EXTM3U\n#EXT-X-PART-INF:PART-TARGET=0.33334\n#EXT-X-TARGETDURATION:2\n")

	tests := []struct {
		name   string
		status int
		cc     string
		age    string
		ctype  string
		path   string
		body   []byte
		block  bool
		want   time.Duration
	}{
		{"immutable segment", 200, "public, max-age=86400, immutable", "", "video/mp4",
			"/a/s.m4s", nil, false, 24 * time.Hour},
		{"segment with age", 200, "max-age=600", "100", "video/mp4", "/a/s.m4s", nil, false,
			500 * time.Second},
		{"s-maxage first", 200, "max-age=10, s-maxage=20", "", "", "/a/s.m4s", nil, false,
			20 * time.Second},
		{"capped", 200, "max-age=999999", "", "", "/a/s.m4s", nil, false, DefaultMaxTTL},
		{"playlist", 200, "max-age=1", "", "application/vnd.apple.mpegurl", "/a/index.m3u8",
			nil, false, DefaultPlaylistTTL},
		{"ll-hls playlist", 200, "max-age=1", "", "application/vnd.apple.mpegurl",
			"/a/index.m3u8", llhls, false, 166670 * time.Microsecond},
		{"blocking reload", 200, "max-age=6", "", "", "/a/index.m3u8", llhls, true,
			DefaultBlockingTTL},
		{"mpd", 200, "max-age=2", "", "application/dash+xml", "/a/video.mpd", nil, false,
			DefaultPlaylistTTL},
		{"no-store", 200, "no-store", "", "", "/a/s.m4s", nil, false, 0},
		{"no-cache", 200, "no-cache", "", "", "/a/s.m4s", nil, false, 0},
		{"private", 200, "private, max-age=60", "", "", "/a/s.m4s", nil, false, 0},
		{"no header", 200, "", "", "", "/a/s.m4s", nil, false, 0},
		{"bad max-age", 200, "max-age=x", "", "", "/a/s.m4s", nil, false, 0},
		{"not found", 404, "no-store", "", "", "/a/s.m4s", nil, false, DefaultNotFoundTTL},
		{"server error", 500, "max-age=60", "", "", "/a/s.m4s", nil, false, 0},
		{"unavailable", 503, "max-age=60", "", "", "/a/s.m4s", nil, false, 0},
	}

	for _, tt := range tests {
		h := http.Header{}
		for k, v := range map[string]string{"Cache-Control": tt.cc, "Age": tt.age,
			"Content-Type": tt.ctype} {
			if v != "" {
				h.Set(k, v)
			}
		}

		if got := c.ttl(tt.status, h, tt.path, tt.body, tt.block); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}
