package transcode

import (
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/onair/onair/ingest/stream"
)

// sourceOffset is where the test source's clock starts, to check rebasing.
const sourceOffset = time.Hour

// testLog returns a logger that writes to the test output at Warn level.
func testLog(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))

	return len(b), nil
}

// source selects what a pipeline test feeds.
type source struct {
	video, audio bool
	limit        time.Duration // keep units before this media time; 0: all
	corrupt      bool          // garble one picture in the middle
}

// feed demuxes the clip into a finished broadcast and returns its reader and
// the number of source pictures fed.
func (s source) feed(t *testing.T, clip string) (*stream.Reader, int) {
	tracks, units := demux(t, clip, sourceOffset)

	var keep []*stream.Track
	for _, tr := range tracks {
		if (tr.IsVideo() && s.video) || (!tr.IsVideo() && s.audio) {
			tr.ID = len(keep) + 1
			keep = append(keep, tr)
		}
	}

	b := stream.NewBroadcast(keep, nil)
	r := b.NewReader("transcode", len(units)+1)
	pictures := 0

	for _, u := range units {
		if !slices.Contains(keep, u.Track) || (s.limit > 0 && u.PTS-sourceOffset >= s.limit) {
			continue
		}

		if u.Track.IsVideo() {
			pictures++
			if s.corrupt && pictures == 30 {
				u = garble(u)
			}
		}

		b.Write(u)
	}

	b.Close(nil)

	return r, pictures
}

// garble keeps u's NAL headers and overwrites the slice data.
func garble(u *stream.Unit) *stream.Unit {
	c := *u
	c.NALUs = nil

	for _, n := range u.NALUs {
		g := append([]byte(nil), n...)
		for i := 1; i < len(g); i++ {
			g[i] = byte(i*7919) ^ 0x5a
		}

		c.NALUs = append(c.NALUs, g)
	}

	return &c
}

func TestPipeline(t *testing.T) {
	clip := sourceClip(t)
	const seg = 2 * time.Second

	tests := []struct {
		name string
		src  source
	}{
		{"audio and video", source{video: true, audio: true}},
		{"video only", source{video: true, limit: 5 * time.Second}},
		{"audio only", source{audio: true}},
		{"corrupted picture", source{video: true, audio: true, limit: 5 * time.Second, corrupt: true}},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reader, pictures := tt.src.feed(t, clip)
			sink := newFileSink(t)
			p := &Pipeline{
				Reader: reader, Sink: sink, Log: testLog(t),
				SegmentDuration: seg, Threads: 2, KeepLadder: true,
			}

			if err := p.Start(); err != nil {
				t.Fatal(err)
			}
			defer p.Close()

			<-p.Done()

			if err := p.Err(); err != nil {
				t.Fatalf("pipeline error: %v", err)
			}

			if sink.starts != 1 || sink.ends != 1 {
				t.Fatalf("sink started %d and ended %d times", sink.starts, sink.ends)
			}

			checkTracks(t, sink, tt.src)
			checkVideo(t, sink, pictures, seg, tt.src.corrupt)
			checkAudio(t, sink)

			st := p.Status()
			for _, r := range st.Rungs {
				if !r.Active || r.Frames == 0 || r.Preset != "veryfast" || r.Lag <= 0 {
					t.Errorf("status of %s: %+v", r.Name, r)
				}
			}
		})
	}
}

// checkTracks checks the output track list against the source.
func checkTracks(t *testing.T, sink *fileSink, src source) {
	t.Helper()

	var want []string
	if src.video {
		want = append(want, "720p", "480p", "360p")
	}

	if src.audio {
		want = append(want, "audio")
	}

	var got []string
	for i, tr := range sink.tracks {
		got = append(got, tr.Name)
		if tr.ID != i+1 {
			t.Errorf("track %s has ID %d, want %d", tr.Name, tr.ID, i+1)
		}
	}

	if !slices.Equal(got, want) {
		t.Fatalf("tracks %v, want %v", got, want)
	}
}

// checkVideo probes every rung and compares their keyframes.
func checkVideo(t *testing.T, sink *fileSink, pictures int, seg time.Duration, lossy bool) {
	t.Helper()

	sizes := map[string][2]int{"720p": {1280, 720}, "480p": {854, 480}, "360p": {640, 360}}
	var firstKeys []time.Duration
	var firstName string

	for _, tr := range sink.tracks {
		if !tr.IsVideo() {
			continue
		}

		units := sink.units[tr]
		p := probe(t, sink.path(tr), "v")
		want := sizes[tr.Name]

		if p.codec != "h264" || p.width != want[0] || p.height != want[1] ||
			tr.Width != want[0] || tr.Height != want[1] {
			t.Errorf("%s: ffprobe %+v, track %dx%d, want h264 %dx%d",
				tr.Name, p, tr.Width, tr.Height, want[0], want[1])
		}

		if len(p.keys) != len(units) {
			t.Errorf("%s: ffprobe decoded %d pictures, sink got %d", tr.Name, len(p.keys), len(units))
		}

		if !lossy && len(units) != pictures {
			t.Errorf("%s: %d pictures out, %d in", tr.Name, len(units), pictures)
		}

		if lossy && len(units) < pictures*8/10 {
			t.Errorf("%s: only %d pictures out of %d", tr.Name, len(units), pictures)
		}

		keys := keyTimes(t, tr.Name, units, p.keys)
		checkSpacing(t, tr.Name, keys, seg)

		if firstKeys == nil {
			firstKeys, firstName = keys, tr.Name
		} else if !slices.Equal(keys, firstKeys) {
			t.Errorf("keyframes of %s %v differ from %s %v", tr.Name, keys, firstName, firstKeys)
		}
	}
}

// keyTimes returns the PTS of the keyframes, checking that the sink's Key
// flags match the keyframes ffprobe found and that DTS rises.
func keyTimes(t *testing.T, name string, units []*stream.Unit, probed []bool) []time.Duration {
	var keys []time.Duration

	for i, u := range units {
		if i > 0 && u.DTS <= units[i-1].DTS {
			t.Errorf("%s: DTS %v after %v", name, u.DTS, units[i-1].DTS)
		}

		if i < len(probed) && probed[i] != u.Key {
			t.Errorf("%s: picture %d key %v, ffprobe says %v", name, i, u.Key, probed[i])
		}

		if u.Key {
			keys = append(keys, u.PTS)
		}
	}

	return keys
}

// checkSpacing checks that keyframes start at 0 and sit on the first picture
// at or past each multiple of seg.
func checkSpacing(t *testing.T, name string, keys []time.Duration, seg time.Duration) {
	const frame = time.Second / 24

	if len(keys) == 0 || keys[0] != 0 {
		t.Fatalf("%s: keyframes %v do not start at 0", name, keys)
	}

	for i, k := range keys {
		if at := time.Duration(i) * seg; k < at || k >= at+frame {
			t.Errorf("%s: keyframe %d at %v, want within a picture of %v", name, i, k, at)
		}
	}
}

// checkAudio probes the audio track.
func checkAudio(t *testing.T, sink *fileSink) {
	t.Helper()

	for _, tr := range sink.tracks {
		if tr.Codec != stream.CodecAAC {
			continue
		}

		p := probe(t, sink.path(tr), "a")
		if p.codec != "aac" || p.profile != "LC" || p.rate != 48000 || p.channels != 2 {
			t.Errorf("audio: ffprobe %+v, want aac LC 48000 Hz stereo", p)
		}

		if sink.asc.SampleRate != 48000 || sink.asc.ChannelCount != 2 || tr.Bitrate != 128000 {
			t.Errorf("audio track config %+v bitrate %d", sink.asc, tr.Bitrate)
		}

		units := sink.units[tr]
		if len(units) < 100 || units[0].PTS != 0 {
			t.Fatalf("audio: %d units, first at %v", len(units), units[0].PTS)
		}

		for i := 1; i < len(units); i++ {
			if d := units[i].PTS - units[i-1].PTS; d != samplesToDuration(1024, 48000) &&
				d != samplesToDuration(1024, 48000)+1 {
				t.Fatalf("audio: unit %d %v after the previous", i, d)
			}
		}
	}
}

// probed is what ffprobe says of one stream of a file.
type probed struct {
	codec, profile string
	width, height  int
	rate, channels int
	keys           []bool // per decoded picture
}

// probe runs ffprobe on the first stream of kind ("v" or "a") of path.
func probe(t *testing.T, path, kind string) probed {
	t.Helper()

	out := ffprobe(t, "-select_streams", kind+":0", "-show_entries",
		"stream=codec_name,profile,width,height,sample_rate,channels", "-of", "default=nw=1", path)

	var p probed
	for _, line := range strings.Split(out, "\n") {
		k, v, _ := strings.Cut(line, "=")
		switch k {
		case "codec_name":
			p.codec = v
		case "profile":
			p.profile = v
		case "width":
			p.width = atoi(v)
		case "height":
			p.height = atoi(v)
		case "sample_rate":
			p.rate = atoi(v)
		case "channels":
			p.channels = atoi(v)
		}
	}

	if kind == "v" {
		frames := ffprobe(t, "-select_streams", "v:0", "-show_entries", "frame=key_frame",
			"-of", "csv=p=0", path)
		for _, f := range strings.Fields(frames) {
			// A frame's line may be followed by its side data, after a comma.
			p.keys = append(p.keys, strings.Split(f, ",")[0] == "1")
		}
	}

	return p
}

func ffprobe(t *testing.T, args ...string) string {
	t.Helper()

	cmd := exec.Command("ffprobe", append([]string{"-v", "error"}, args...)...)
	cmd.Stderr = os.Stderr

	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ffprobe %v: %v", args, err)
	}

	return string(out)
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			break
		}

		n = n*10 + int(c-'0')
	}

	return n
}

func TestPipelineUnsupportedCodec(t *testing.T) {
	h264 := &stream.Track{ID: 1, Codec: stream.CodecH264, Width: 640, Height: 360}

	tests := []struct {
		name   string
		tracks []*stream.Track
		codec  stream.Codec
	}{
		{"hevc video", []*stream.Track{{ID: 1, Codec: stream.CodecH265, Width: 1280, Height: 720}},
			stream.CodecH265},
		{"opus audio", []*stream.Track{h264, {ID: 2, Codec: stream.CodecOpus}}, stream.CodecOpus},
		{"mp3 audio", []*stream.Track{{ID: 1, Codec: stream.CodecMP3}}, stream.CodecMP3},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := stream.NewBroadcast(tt.tracks, nil)
			sink := newFileSink(t)
			p := &Pipeline{Reader: b.NewReader("transcode", 1), Sink: sink}

			err := p.Start()
			defer p.Close()

			var unsupported *UnsupportedCodecError
			if !errors.As(err, &unsupported) || unsupported.Codec != tt.codec {
				t.Fatalf("Start() = %v, want an UnsupportedCodecError for %s", err, tt.codec)
			}

			if sink.starts != 0 {
				t.Fatal("sink started for an unsupported source")
			}
		})
	}
}

// TestPipelineClose closes a pipeline whose source is still live.
func TestPipelineClose(t *testing.T) {
	tests := []struct {
		name   string
		frames int // source units written before Close
	}{
		{"before any unit", 0},
		{"mid-stream", 40},
	}

	clip := sourceClip(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tracks, units := demux(t, clip, 0)
			b := stream.NewBroadcast(tracks, nil)
			defer b.Close(nil)

			sink := newFileSink(t)
			p := &Pipeline{Reader: b.NewReader("transcode", len(units)), Sink: sink, KeepLadder: true}
			if err := p.Start(); err != nil {
				t.Fatal(err)
			}

			for _, u := range units[:tt.frames] {
				b.Write(u)
			}

			p.Close()

			select {
			case <-p.Done():
			default:
				t.Fatal("Done still open after Close")
			}

			if sink.ends != 1 || p.Err() != nil {
				t.Fatalf("sink ended %d times, err %v", sink.ends, p.Err())
			}
		})
	}
}
