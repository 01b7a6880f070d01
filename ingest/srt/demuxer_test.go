package srt

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/onair/onair/ingest/stream"
)

// collector is a sink that keeps what a demuxer found.
type collector struct {
	broadcasts [][]*stream.Track
	units      []*stream.Unit
}

func (c *collector) start(tracks []*stream.Track) {
	c.broadcasts = append(c.broadcasts, tracks)
}

func (c *collector) write(u *stream.Unit) {
	c.units = append(c.units, u)
}

// demux runs a demuxer over data to its end.
func demux(t testing.TB, data []byte) *collector {
	t.Helper()

	c := &collector{}
	d := newDemuxer(bytes.NewReader(data), c, slog.New(slog.DiscardHandler))

	if err := d.run(); !errors.Is(err, io.EOF) {
		t.Fatalf("demux ended with %v, want EOF", err)
	}

	return c
}

// makeTS encodes a small test pattern to MPEG-TS with extra ffmpeg args
// before the output.
func makeTS(t testing.TB, seconds string, args ...string) []byte {
	t.Helper()

	path := filepath.Join(t.TempDir(), "out.ts")
	base := []string{"-hide_banner", "-loglevel", "error",
		"-f", "lavfi", "-i", "testsrc2=size=160x90:rate=25:duration=" + seconds,
		"-f", "lavfi", "-i", "sine=sample_rate=48000:duration=" + seconds}
	base = append(base, args...)
	base = append(base, "-f", "mpegts", path)

	if out, err := exec.Command("ffmpeg", base...).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, out)
	}

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	return data
}

var h264AAC = []string{"-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-c:a", "aac"}

func TestDemuxer(t *testing.T) {
	plain := makeTS(t, "2", h264AAC...)
	videoOnly := makeTS(t, "1", "-an", "-c:v", "libx264", "-preset", "ultrafast", "-g", "25")
	later := makeTS(t, "1", append(h264AAC, "-output_ts_offset", "2")...)

	cases := []struct {
		name       string
		data       []byte
		broadcasts [][]stream.Codec
		minSpan    time.Duration // last DTS - first DTS of the video
	}{
		{"h264 and aac", plain, [][]stream.Codec{{stream.CodecH264, stream.CodecAAC}}, 1800 * time.Millisecond},
		{"data before the first pat/pmt skipped", plain[len(plain)/3+5:],
			[][]stream.Codec{{stream.CodecH264, stream.CodecAAC}}, 900 * time.Millisecond},
		{"pts wrap unwrapped", makeTS(t, "3", append(h264AAC, "-output_ts_offset", "95442")...),
			[][]stream.Codec{{stream.CodecH264, stream.CodecAAC}}, 2800 * time.Millisecond},
		{"pid added late", append(append([]byte(nil), videoOnly...), later...),
			[][]stream.Codec{{stream.CodecH264}, {stream.CodecH264, stream.CodecAAC}},
			1800 * time.Millisecond},
		{"h265 and opus", makeTS(t, "1", "-c:v", "libx265", "-preset", "ultrafast",
			"-x265-params", "log-level=error", "-c:a", "libopus"),
			[][]stream.Codec{{stream.CodecH265, stream.CodecOpus}}, 800 * time.Millisecond},
		{"unsupported ac-3 ignored", makeTS(t, "1", "-c:v", "libx264", "-preset", "ultrafast",
			"-c:a", "ac3"), [][]stream.Codec{{stream.CodecH264}}, 800 * time.Millisecond},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := demux(t, tc.data)
			checkBroadcasts(t, c, tc.broadcasts)
			checkTimeline(t, c, tc.minSpan)
		})
	}
}

func checkBroadcasts(t *testing.T, c *collector, want [][]stream.Codec) {
	t.Helper()

	if len(c.broadcasts) != len(want) {
		t.Fatalf("got %d broadcasts, want %d", len(c.broadcasts), len(want))
	}

	for i, tracks := range c.broadcasts {
		if len(tracks) != len(want[i]) {
			t.Fatalf("broadcast %d: tracks %v, want %v", i, describe(tracks), want[i])
		}

		for j, tr := range tracks {
			if tr.Codec != want[i][j] || tr.ID != j+1 {
				t.Fatalf("broadcast %d: tracks %v, want %v", i, describe(tracks), want[i])
			}
		}
	}
}

// checkTimeline checks rising timestamps, DTS <= PTS, a keyframe first, and
// the span of the video.
func checkTimeline(t *testing.T, c *collector, minSpan time.Duration) {
	t.Helper()

	last := map[stream.Codec]time.Duration{}
	var first, end time.Duration
	seen := false

	for i, u := range c.units {
		if u.DTS > u.PTS || u.DTS < last[u.Track.Codec] || u.DTS < 0 {
			t.Fatalf("unit %d (%s): dts %v pts %v after %v", i, u.Track.Codec, u.DTS, u.PTS,
				last[u.Track.Codec])
		}

		last[u.Track.Codec] = u.DTS

		if u.Track.IsVideo() {
			if !seen {
				if !u.Key {
					t.Fatalf("first picture is not a keyframe")
				}

				seen, first = true, u.DTS
			}

			end = u.DTS
		}
	}

	if end-first < minSpan || end-first > minSpan+2*time.Second {
		t.Fatalf("video spans %v, want about %v", end-first, minSpan)
	}
}

func TestClockUnwrap(t *testing.T) {
	cases := []struct {
		name string
		in   []int64
		want []int64
	}{
		{"rising", []int64{0, 3000, 6000}, []int64{0, 3000, 6000}},
		{"wrap forward", []int64{tsClockMask - 1000, 2000}, []int64{tsClockMask - 1000, tsClockMask + 2001}},
		{"small step back", []int64{9000, 6000, 12000}, []int64{9000, 6000, 12000}},
		{"step back over the wrap", []int64{1000, tsClockMask - 999}, []int64{1000, -1000}},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var c clock
			for i, v := range tc.in {
				if got := c.unwrap(v); got != tc.want[i] {
					t.Fatalf("value %d: got %d, want %d", i, got, tc.want[i])
				}
			}
		})
	}
}

func FuzzDemux(f *testing.F) {
	f.Add([]byte{})
	f.Add(bytes.Repeat([]byte{tsSyncByte, 0, 0, 0x10}, 47*3))

	f.Fuzz(func(t *testing.T, data []byte) {
		c := &collector{}
		d := newDemuxer(bytes.NewReader(data), c, slog.New(slog.DiscardHandler))

		if err := d.run(); !errors.Is(err, io.EOF) {
			t.Fatalf("demux of a byte slice ended with %v, want EOF", err)
		}

		for _, u := range c.units {
			if u.DTS > u.PTS || u.DTS < 0 {
				t.Fatalf("unit dts %v pts %v", u.DTS, u.PTS)
			}
		}
	})
}
