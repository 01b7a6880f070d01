package transcode

import (
	"slices"
	"testing"
	"time"

	"github.com/asticode/go-astiav"
	"github.com/onair/onair/ingest/stream"
)

// slowEncoder is a real encoder that takes at least delay per picture, as an
// encoder on an overloaded machine would.
type slowEncoder struct {
	VideoEncoder
	delay time.Duration
}

func (e *slowEncoder) Encode(f *astiav.Frame, key bool) ([]Picture, error) {
	if f != nil {
		time.Sleep(e.delay)
	}

	return e.VideoEncoder.Encode(f, key)
}

// TestPipelineStepsDownWhenBehind publishes in real time to an encoder too
// slow at the first preset to keep up. The backlog builds in the pipeline's
// source queue, not at the rungs, so the controller must see it there: the
// pipeline has to step to a faster preset and catch up.
func TestPipelineStepsDownWhenBehind(t *testing.T) {
	clip := sourceClip(t)
	tracks, units := demux(t, clip, sourceOffset)

	var video *stream.Track
	for _, tr := range tracks {
		if tr.IsVideo() {
			video = tr
		}
	}

	const limit = 9 * time.Second

	b := stream.NewBroadcast([]*stream.Track{video}, nil)
	reader := b.NewReader("transcode", len(units)+1)
	sink := newFileSink(t)

	// At "veryfast" every picture takes 80 ms, half the speed of a 24 fps
	// source; the faster presets are x264's own speed.
	p := &Pipeline{
		Reader: reader, Sink: sink, Log: testLog(t), Threads: 2,
		openEnc: func(cfg EncoderConfig) (VideoEncoder, error) {
			enc, err := openX264(cfg)
			if err != nil || cfg.Preset != presets[0] {
				return enc, err
			}

			return &slowEncoder{VideoEncoder: enc, delay: 80 * time.Millisecond}, nil
		},
	}

	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	defer p.Close()

	// Write the units at their media times, as a live publisher does.
	start := time.Now()

	for _, u := range units {
		if u.Track != video || u.PTS-sourceOffset >= limit {
			continue
		}

		time.Sleep(time.Until(start.Add(u.PTS - sourceOffset)))
		b.Write(u)
	}

	b.Close(nil)
	<-p.Done()

	st := p.Status()
	if st.Level == 0 {
		t.Fatalf("level still 0 after a publisher at twice the encoder's speed; status %+v", st)
	}

	top := sink.tracks[0]

	var keys []time.Duration
	for _, u := range sink.units[top] {
		if u.Key {
			keys = append(keys, u.PTS)
		}
	}

	if len(keys) < 3 || !slices.IsSorted(keys) {
		t.Errorf("top rung keyframes %v", keys)
	}

	// A faster preset is enough here: dropping a rung would be overshooting.
	for _, r := range st.Rungs {
		if !r.Active || r.Preset == presets[0] {
			t.Errorf("rung %s at level %d: active %v, preset %s", r.Name, st.Level, r.Active, r.Preset)
		}
	}
}
