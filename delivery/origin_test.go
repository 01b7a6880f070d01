package delivery

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onair/onair/packager"
	"github.com/onair/onair/packager/packagertest"
)

// presentations is a lookup over a map.
type presentations struct {
	mu sync.Mutex
	m  map[string]*packager.Presentation
}

func (l *presentations) Presentation(id string) (*packager.Presentation, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()

	p, ok := l.m[id]

	return p, ok
}

// newOrigin serves one presentation made from real encoded media under id
// "in1", ended when ended is set.
func newOrigin(t *testing.T, ended bool) (string, *packager.Presentation) {
	t.Helper()

	m := packagertest.Make(t, packagertest.Options{
		Rungs: []packagertest.Rung{
			{Name: "360p", Width: 640, Height: 360, Bitrate: 600_000},
			{Name: "180p", Width: 320, Height: 180, Bitrate: 200_000},
		},
		Audio:    true,
		Duration: 4500 * time.Millisecond,
	})

	p := &packager.Presentation{}

	err := p.Start(m.Tracks)
	if err != nil {
		t.Fatal(err)
	}

	for _, u := range m.Units {
		p.Write(u)
	}

	if ended {
		p.End()
	}

	o := &Origin{Presentations: &presentations{m: map[string]*packager.Presentation{"in1": p}}}
	srv := httptest.NewServer(o.Handler())
	t.Cleanup(srv.Close)

	return srv.URL, p
}

func TestOriginPlaysOverHTTP(t *testing.T) {
	base, _ := newOrigin(t, true)

	var stderr bytes.Buffer

	cmd := exec.Command("ffprobe", "-v", "error", "-count_frames", "-show_entries",
		"stream=codec_name,width,height,nb_read_frames", "-of", "json",
		base+"/in1/manifest/video.m3u8")
	cmd.Stderr = &stderr

	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ffprobe: %v: %s", err, stderr.String())
	}

	var res struct {
		Streams []struct {
			CodecName  string `json:"codec_name"`
			Width      int    `json:"width"`
			Height     int    `json:"height"`
			ReadFrames string `json:"nb_read_frames"`
		}
	}

	err = json.Unmarshal(out, &res)
	if err != nil {
		t.Fatal(err)
	}

	got := map[string]bool{}
	for _, s := range res.Streams {
		if s.ReadFrames == "" || s.ReadFrames == "0" {
			t.Errorf("stream %+v: no frame decoded", s)
		}

		got[s.CodecName] = true
		if s.CodecName == "h264" {
			got[fmt.Sprintf("%dx%d", s.Width, s.Height)] = true
		}
	}

	for _, want := range []string{"h264", "aac", "640x360", "320x180"} {
		if !got[want] {
			t.Errorf("ffprobe found no %s in %+v", want, res.Streams)
		}
	}
}

func TestOriginResponses(t *testing.T) {
	base, p := newOrigin(t, false)
	session := p.Session()

	tests := []struct {
		name, method, path string
		status             int
		contentType, cache string
		body               string // a substring of the body; HEAD bodies are empty
	}{
		{"multivariant", "GET", "/in1/manifest/video.m3u8", 200,
			"application/vnd.apple.mpegurl", "max-age=1", "#EXT-X-STREAM-INF:"},
		{"media playlist", "GET", "/in1/manifest/360p/index.m3u8", 200,
			"application/vnd.apple.mpegurl", "max-age=1", "#EXTINF:"},
		{"video init", "GET", "/in1/manifest/360p/" + session + "/init.mp4", 200,
			"video/mp4", "public, max-age=86400, immutable", "ftyp"},
		{"audio init", "GET", "/in1/manifest/audio/" + session + "/init.mp4", 200,
			"audio/mp4", "public, max-age=86400, immutable", "ftyp"},
		{"video segment", "GET", "/in1/manifest/180p/" + session + "/seg_0.m4s", 200,
			"video/mp4", "public, max-age=86400, immutable", "moof"},
		{"audio segment head", "HEAD", "/in1/manifest/audio/" + session + "/seg_1.m4s", 200,
			"audio/mp4", "public, max-age=86400, immutable", ""},
		{"unknown id", "GET", "/nope/manifest/video.m3u8", 404,
			"text/plain; charset=utf-8", "no-store", "no live presentation"},
		{"unknown segment", "GET", "/in1/manifest/180p/" + session + "/seg_77.m4s", 404,
			"text/plain; charset=utf-8", "no-store", "not found"},
		{"old session", "GET", "/in1/manifest/180p/ffffffff/seg_0.m4s", 404,
			"text/plain; charset=utf-8", "no-store", "not found"},
		{"unknown rendition", "GET", "/in1/manifest/4k/index.m3u8", 404,
			"text/plain; charset=utf-8", "no-store", "not found"},
		{"post", "POST", "/in1/manifest/video.m3u8", 405,
			"text/plain; charset=utf-8", "no-store", "method not allowed"},
		{"lifecycle live", "GET", "/in1/lifecycle", 200,
			"application/json", "no-cache", `{"isInput":true,"videoUID":null,"live":true}`},
		{"lifecycle not live", "GET", "/other/lifecycle", 200,
			"application/json", "no-cache", `{"isInput":true,"videoUID":null,"live":false}`},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, base+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}

			req.Header.Set("Origin", "https://player.example")

			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}

			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()

			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.status)
			}

			checks := map[string]string{
				"Content-Type":                  tt.contentType,
				"Cache-Control":                 tt.cache,
				"Access-Control-Allow-Origin":   "*",
				"Access-Control-Expose-Headers": exposeHeaders,
			}
			for k, want := range checks {
				if got := resp.Header.Get(k); got != want {
					t.Errorf("%s: %q, want %q", k, got, want)
				}
			}

			if !strings.Contains(string(body), tt.body) {
				t.Errorf("body %.80q does not contain %q", body, tt.body)
			}

			if tt.method == "HEAD" && (len(body) != 0 || resp.ContentLength <= 0) {
				t.Errorf("HEAD: %d body bytes, Content-Length %d", len(body), resp.ContentLength)
			}
		})
	}
}

func TestOriginPreflightAndConditional(t *testing.T) {
	base, p := newOrigin(t, false)

	req, _ := http.NewRequest("OPTIONS", base+"/in1/manifest/video.m3u8", nil)
	req.Header.Set("Origin", "https://player.example")
	req.Header.Set("Access-Control-Request-Method", "GET")
	req.Header.Set("Access-Control-Request-Headers", "range")

	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}

	resp.Body.Close()

	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("preflight status %d, want 204", resp.StatusCode)
	}

	for k, want := range map[string]string{
		"Access-Control-Allow-Origin":  "*",
		"Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
	} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("preflight %s: %q, want %q", k, got, want)
		}
	}

	if !strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Range") {
		t.Errorf("preflight allows headers %q, not Range",
			resp.Header.Get("Access-Control-Allow-Headers"))
	}

	url := base + "/in1/manifest/360p/" + p.Session() + "/seg_0.m4s"

	resp, err = http.Get(url)
	if err != nil {
		t.Fatal(err)
	}

	full, _ := io.ReadAll(resp.Body)
	resp.Body.Close()

	tag := resp.Header.Get("ETag")
	if tag == "" {
		t.Fatal("no ETag on a segment")
	}

	req, _ = http.NewRequest("GET", url, nil)
	req.Header.Set("If-None-Match", tag)

	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}

	resp.Body.Close()

	if resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: status %d, want 304", resp.StatusCode)
	}

	req, _ = http.NewRequest("GET", url, nil)
	req.Header.Set("Range", "bytes=0-7")

	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}

	part, _ := io.ReadAll(resp.Body)
	resp.Body.Close()

	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(part, full[:8]) {
		t.Errorf("Range: status %d, %x, want 206 and %x", resp.StatusCode, part, full[:8])
	}
}

func TestOriginWhileWriting(t *testing.T) {
	m := packagertest.Make(t, packagertest.Options{
		Rungs:    []packagertest.Rung{{Name: "180p", Width: 320, Height: 180, Bitrate: 200_000}},
		Audio:    true,
		Duration: 4 * time.Second,
	})

	p := &packager.Presentation{SegmentDuration: time.Second, Window: 2}
	lookup := &presentations{m: map[string]*packager.Presentation{}}
	o := &Origin{Presentations: lookup}
	srv := httptest.NewServer(o.Handler())
	t.Cleanup(srv.Close)

	err := p.Start(m.Tracks)
	if err != nil {
		t.Fatal(err)
	}

	lookup.mu.Lock()
	lookup.m["in1"] = p
	lookup.mu.Unlock()

	done := make(chan struct{})

	go func() {
		defer close(done)

		for _, u := range m.Units {
			p.Write(u)
		}

		p.End()
	}()

	for ended := false; !ended; {
		select {
		case <-done:
			ended = true
		default:
		}

		for _, path := range []string{"video.m3u8", "180p/index.m3u8", "audio/index.m3u8"} {
			resp, err := http.Get(srv.URL + "/in1/manifest/" + path)
			if err != nil {
				t.Fatal(err)
			}

			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()

			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s: status %d while writing", path, resp.StatusCode)
			}
		}
	}

	resp, err := http.Get(srv.URL + "/in1/lifecycle")
	if err != nil {
		t.Fatal(err)
	}

	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()

	if !strings.Contains(string(body), `"live":false`) {
		t.Errorf("lifecycle after End: %s", body)
	}
}
