package packager

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onair/onair/ingest/stream"
	"github.com/onair/onair/packager/packagertest"
)

// recorder is a slog handler that keeps the messages of Warn records.
type recorder struct {
	mu    sync.Mutex
	warns []string
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *recorder) WithGroup(string) slog.Handler            { return r }

func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()

	if rec.Level >= slog.LevelWarn {
		r.warns = append(r.warns, rec.Message)
	}

	return nil
}

func (r *recorder) has(substr string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()

	for _, w := range r.warns {
		if strings.Contains(w, substr) {
			return true
		}
	}

	return false
}

func TestPresentationRungDropAndResume(t *testing.T) {
	m := packagertest.Make(t, packagertest.Options{Rungs: twoRungs, Audio: true,
		Duration: 10 * time.Second})
	p := &Presentation{}

	err := p.Start(m.Tracks)
	if err != nil {
		t.Fatal(err)
	}

	dropped := m.Tracks[1] // 180p
	var during string

	for _, u := range m.Units {
		if u.Track == dropped && u.DTS >= 2*time.Second && u.DTS < 7*time.Second {
			continue
		}

		if during == "" && u.DTS >= 6500*time.Millisecond {
			during = string(p.Multivariant())
		}

		p.Write(u)
	}

	after := string(p.Multivariant())
	p.End()

	if strings.Contains(during, "180p/index.m3u8") || !strings.Contains(during, "360p/index.m3u8") {
		t.Errorf("while 180p was dropped the multivariant playlist was\n%s", during)
	}

	if !strings.Contains(after, "180p/index.m3u8") {
		t.Errorf("after 180p resumed the multivariant playlist was\n%s", after)
	}

	pl, err := p.MediaPlaylist("180p")
	if err != nil {
		t.Fatal(err)
	}

	if bytes.Count(pl, []byte("#EXT-X-DISCONTINUITY\n")) != 1 {
		t.Errorf("resumed rung's playlist has no single EXT-X-DISCONTINUITY:\n%s", pl)
	}

	top, _ := p.MediaPlaylist("360p")
	if bytes.Contains(top, []byte("DISCONTINUITY")) {
		t.Errorf("the rung that never dropped has a discontinuity:\n%s", top)
	}

	base := serve(t, p)
	for _, s := range probe(t, base+"180p/index.m3u8") {
		if s.Width != 320 || s.Height != 180 {
			t.Errorf("resumed rung probes as %+v", s)
		}
	}
}

func TestPresentationWindow(t *testing.T) {
	m := packagertest.Make(t, packagertest.Options{Rungs: twoRungs[1:], Audio: true,
		Duration: 10 * time.Second, KeyInterval: time.Second})
	store := &MemoryStore{}
	p := &Presentation{SegmentDuration: time.Second, Window: 2, Store: store}

	err := p.Start(m.Tracks)
	if err != nil {
		t.Fatal(err)
	}

	base := serve(t, p)
	var lastSeq int64 = -1

	for i, u := range m.Units {
		p.Write(u)

		if i%50 != 0 {
			continue
		}

		pl, _ := p.MediaPlaylist("180p")
		var seq int64
		fmt.Sscanf(regexp.MustCompile(`MEDIA-SEQUENCE:(\d+)`).FindString(string(pl)),
			"MEDIA-SEQUENCE:%d", &seq)

		if seq < lastSeq {
			t.Fatalf("media sequence went from %d to %d", lastSeq, seq)
		}

		lastSeq = seq

		uris := regexp.MustCompile(`(?m)^[0-9a-f]{8}/seg_\d+\.m4s$`).FindAllString(string(pl), -1)
		if len(uris) > 2 {
			t.Fatalf("%d segments listed with Window 2:\n%s", len(uris), pl)
		}

		for _, uri := range uris {
			if _, err := p.Open("180p/" + uri); err != nil {
				t.Errorf("listed %s: %v", uri, err)
			}
		}
	}

	p.End()

	if lastSeq < 5 {
		t.Errorf("media sequence reached only %d over 10 s of 1 s segments", lastSeq)
	}

	if _, err := p.Segment("180p", 0); err == nil {
		t.Error("segment 0 still stored after the window moved on")
	}

	// Two renditions, each: init + Window + extraKept segments at most.
	if n := store.Len(); n > 2*(1+2+extraKept) {
		t.Errorf("store holds %d blobs", n)
	}

	for _, s := range probe(t, base+"video.m3u8") {
		if s.CodecType == "video" && s.Height != 180 {
			t.Errorf("probed %+v", s)
		}
	}
}

func TestPresentationLateKeyframes(t *testing.T) {
	tests := []struct {
		name      string
		keys      time.Duration
		warn      string
		maxExtinf float64
	}{
		{"longer segments", 2400 * time.Millisecond, "keyframes came late", 2.5},
		{"forced cut", 5 * time.Second, "no keyframe in time", 2.5},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := packagertest.Make(t, packagertest.Options{Rungs: twoRungs[1:],
				Duration: 9 * time.Second, KeyInterval: tt.keys})
			log := &recorder{}
			p := &Presentation{SegmentDuration: 2 * time.Second, Log: slog.New(log)}
			feed(t, p, m, nil)
			p.End()

			pl, _ := p.MediaPlaylist("180p")
			b := boundaries(t, "180p", pl)

			if len(b) < 2 {
				t.Fatalf("too few segments:\n%s", pl)
			}

			prev := 0.0
			for _, end := range b {
				if end-prev > tt.maxExtinf {
					t.Errorf("segment of %.3f s, want at most %.1f:\n%s", end-prev, tt.maxExtinf, pl)
				}

				prev = end
			}

			if !log.has(tt.warn) {
				t.Errorf("no warning %q among %q", tt.warn, log.warns)
			}

			probe(t, serve(t, p)+"180p/index.m3u8")
		})
	}
}

// aacLC48kStereo is the AudioSpecificConfig of AAC-LC, 48 kHz, 2 channels.
var aacLC48kStereo = []byte{0x11, 0x90}

func TestMediaPlaylistText(t *testing.T) {
	audio := &stream.Track{ID: 1, Codec: stream.CodecAAC, Name: "audio",
		AudioConfig: aacLC48kStereo, SampleRate: 48000, Channels: 2, Bitrate: 64000}
	p := &Presentation{SegmentDuration: time.Second, Window: 2}

	err := p.Start([]*stream.Track{audio})
	if err != nil {
		t.Fatal(err)
	}

	// 150 frames of 1024 samples at 48 kHz: 3.2 s.
	for i := range 150 {
		ts := time.Duration(i*1024) * time.Second / 48000
		p.Write(&stream.Unit{Track: audio, PTS: ts, DTS: ts, Key: true, Payload: []byte{1, 2, 3}})
	}

	live, _ := p.MediaPlaylist("audio")
	p.End()
	ended, _ := p.MediaPlaylist("audio")

	// Frames cut at the first at or after each second: 47, 47, 47 frames
	// (1.00267 s), then 9 left at End.
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{"live", live, `#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:1
#EXT-X-MEDIA-SEQUENCE:1
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MAP:URI="S/init.mp4"
#EXT-X-PROGRAM-DATE-TIME:T
#EXTINF:1.00267,
S/seg_1.m4s
#EXTINF:1.00267,
S/seg_2.m4s
`},
		{"ended", ended, `#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:1
#EXT-X-MEDIA-SEQUENCE:2
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MAP:URI="S/init.mp4"
#EXT-X-PROGRAM-DATE-TIME:T
#EXTINF:1.00267,
S/seg_2.m4s
#EXTINF:0.19200,
S/seg_3.m4s
#EXT-X-ENDLIST
`},
		{"multivariant", p.Multivariant(), `#EXTM3U
#EXT-X-VERSION:7
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-STREAM-INF:BANDWIDTH=B,AVERAGE-BANDWIDTH=B,CODECS="mp4a.40.2"
audio/index.m3u8
`},
	}

	clean := strings.NewReplacer(p.Session()+"/", "S/")
	pdt := regexp.MustCompile(`PROGRAM-DATE-TIME:\S+`)
	bw := regexp.MustCompile(`BANDWIDTH=\d+`)

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := clean.Replace(string(tt.got))
			got = pdt.ReplaceAllString(got, "PROGRAM-DATE-TIME:T")
			got = bw.ReplaceAllString(got, "BANDWIDTH=B")

			if got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}
