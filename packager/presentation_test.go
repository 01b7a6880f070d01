package packager

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/onair/onair/ingest/stream"
	"github.com/onair/onair/packager/packagertest"
)

// twoRungs is the ladder most tests encode: small, so that tests stay cheap.
var twoRungs = []packagertest.Rung{
	{Name: "360p", Width: 640, Height: 360, Bitrate: 800_000},
	{Name: "180p", Width: 320, Height: 180, Bitrate: 300_000},
}

// feed starts p with m's tracks and writes units until keep says stop.
func feed(t *testing.T, p *Presentation, m *packagertest.Media, keep func(*stream.Unit) bool) {
	t.Helper()

	err := p.Start(m.Tracks)
	if err != nil {
		t.Fatal(err)
	}

	for _, u := range m.Units {
		if keep == nil || keep(u) {
			p.Write(u)
		}
	}
}

// serve answers a presentation's URIs over HTTP, the way delivery does.
func serve(t *testing.T, p *Presentation) string {
	t.Helper()

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, err := p.Open(strings.TrimPrefix(r.URL.Path, "/"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)

			return
		}

		w.Write(res.Data)
	}))
	t.Cleanup(srv.Close)

	return srv.URL + "/"
}

type probedStream struct {
	CodecType   string `json:"codec_type"`
	CodecName   string `json:"codec_name"`
	Width       int    `json:"width"`
	Height      int    `json:"height"`
	ReadFrames  string `json:"nb_read_frames"`
	VariantBits string `json:"-"`
}

// probe decodes every frame of every stream url lists, failing t on a
// decoding error.
func probe(t *testing.T, url string) []probedStream {
	t.Helper()

	var stderr bytes.Buffer

	cmd := exec.Command("ffprobe", "-v", "error", "-count_frames", "-show_entries",
		"stream=codec_type,codec_name,width,height,nb_read_frames", "-of", "json", url)
	cmd.Stderr = &stderr

	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v: %s", url, err, stderr.String())
	}

	if s := strings.TrimSpace(stderr.String()); s != "" {
		t.Errorf("ffprobe %s complained: %s", url, s)
	}

	var res struct{ Streams []probedStream }

	err = json.Unmarshal(out, &res)
	if err != nil {
		t.Fatal(err)
	}

	return res.Streams
}

var (
	streamInfRE = regexp.MustCompile(`#EXT-X-STREAM-INF:(.*)\n(.*)\n`)
	extinfRE    = regexp.MustCompile(`#EXTINF:([0-9.]+),`)
	targetRE    = regexp.MustCompile(`#EXT-X-TARGETDURATION:(\d+)`)
)

// attr returns attribute key of an HLS attribute list.
func attr(list, key string) string {
	m := regexp.MustCompile(`(?:^|,)` + key + `=("[^"]*"|[^,]*)`).FindStringSubmatch(list)
	if m == nil {
		return ""
	}

	return strings.Trim(m[1], `"`)
}

// boundaries returns the cumulative EXTINF sums of a media playlist and checks
// that its target duration covers every rounded EXTINF.
func boundaries(t *testing.T, name string, playlist []byte) []float64 {
	t.Helper()

	target := targetRE.FindSubmatch(playlist)
	if target == nil {
		t.Fatalf("%s: no target duration in\n%s", name, playlist)
	}

	td, _ := strconv.Atoi(string(target[1]))

	var sum float64
	var out []float64

	for _, m := range extinfRE.FindAllSubmatch(playlist, -1) {
		d, _ := strconv.ParseFloat(string(m[1]), 64)
		if int(math.Round(d)) > td {
			t.Errorf("%s: EXTINF %v rounds above the target duration %d", name, d, td)
		}

		sum += d
		out = append(out, sum)
	}

	return out
}

func TestPresentationPlays(t *testing.T) {
	tests := []struct {
		name    string
		opts    packagertest.Options
		variant int // STREAM-INF lines expected
	}{
		{"two rungs with audio", packagertest.Options{Rungs: twoRungs, Audio: true}, 2},
		{"b-frames", packagertest.Options{Rungs: twoRungs[1:], Audio: true, BFrames: true}, 1},
		{"video only", packagertest.Options{Rungs: twoRungs[1:]}, 1},
		{"audio only", packagertest.Options{Audio: true}, 1},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := packagertest.Make(t, tt.opts)
			p := &Presentation{}
			feed(t, p, m, nil)
			p.End()

			if !p.Ended() {
				t.Error("Ended is false after End")
			}

			mv := string(p.Multivariant())
			infs := streamInfRE.FindAllStringSubmatch(mv, -1)

			if len(infs) != tt.variant {
				t.Fatalf("%d variants, want %d:\n%s", len(infs), tt.variant, mv)
			}

			base := serve(t, p)

			var ref []float64

			for _, inf := range infs {
				checkVariant(t, base, p, inf[1], inf[2], tt.opts.Audio)

				pl, err := p.MediaPlaylist(strings.TrimSuffix(inf[2], "/index.m3u8"))
				if err != nil {
					t.Fatal(err)
				}

				if !bytes.HasSuffix(pl, []byte("#EXT-X-ENDLIST\n")) {
					t.Errorf("%s does not end with EXT-X-ENDLIST:\n%s", inf[2], pl)
				}

				b := boundaries(t, inf[2], pl)
				if ref == nil {
					ref = b
				}

				if fmt.Sprintf("%.3f", b) != fmt.Sprintf("%.3f", ref) {
					t.Errorf("%s cuts at %.3f, another rung at %.3f", inf[2], b, ref)
				}
			}
		})
	}
}

// checkVariant probes one variant and compares it with its STREAM-INF.
func checkVariant(t *testing.T, base string, p *Presentation, attrs, uri string, audio bool) {
	t.Helper()

	streams := probe(t, base+uri)

	var video, sound int

	for _, s := range streams {
		switch s.CodecType {
		case "video":
			video++

			if s.CodecName != "h264" {
				t.Errorf("%s: video codec %s", uri, s.CodecName)
			}

			if got := fmt.Sprintf("%dx%d", s.Width, s.Height); got != attr(attrs, "RESOLUTION") {
				t.Errorf("%s decodes at %s, declares %s", uri, got, attr(attrs, "RESOLUTION"))
			}

		case "audio":
			sound++

			if s.CodecName != "aac" {
				t.Errorf("%s: audio codec %s", uri, s.CodecName)
			}
		}

		if n, _ := strconv.Atoi(s.ReadFrames); n == 0 {
			t.Errorf("%s: no %s frame decoded", uri, s.CodecType)
		}
	}

	if strings.Contains(attrs, "RESOLUTION") && video != 1 {
		t.Errorf("%s: %d video streams", uri, video)
	}

	if audio && attr(attrs, "AUDIO") != "" {
		streams = probe(t, base+"audio/index.m3u8")
		if len(streams) != 1 || streams[0].CodecName != "aac" {
			t.Errorf("audio rendition probes as %+v", streams)
		}
	} else if audio && sound == 0 {
		t.Errorf("%s: no audio stream", uri)
	}

	for _, key := range []string{"BANDWIDTH", "AVERAGE-BANDWIDTH", "CODECS"} {
		if attr(attrs, key) == "" {
			t.Errorf("%s: no %s in %s", uri, key, attrs)
		}
	}
}

func TestPresentationNotFound(t *testing.T) {
	m := packagertest.Make(t, packagertest.Options{Rungs: twoRungs[1:], Audio: true})
	p := &Presentation{}
	feed(t, p, m, nil)

	tests := []struct {
		name string
		uri  string
	}{
		{"unknown rendition", "1080p/index.m3u8"},
		{"other session", "180p/00000000/seg_0.m4s"},
		{"future segment", "180p/" + p.Session() + "/seg_99.m4s"},
		{"leading zero", "180p/" + p.Session() + "/seg_01.m4s"},
		{"no rendition", "index.m3u8"},
		{"too deep", "180p/" + p.Session() + "/x/init.mp4"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := p.Open(tt.uri)
			if !errors.Is(err, ErrNotFound) {
				t.Errorf("Open(%q) = %v, want ErrNotFound", tt.uri, err)
			}
		})
	}

	for _, uri := range []string{"video.m3u8", "180p/index.m3u8", "audio/index.m3u8",
		"180p/" + p.Session() + "/init.mp4", "180p/" + p.Session() + "/seg_0.m4s"} {
		if _, err := p.Open(uri); err != nil {
			t.Errorf("Open(%q): %v", uri, err)
		}
	}
}
