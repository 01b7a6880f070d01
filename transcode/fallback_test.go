package transcode

import (
	"bytes"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asticode/go-astiav"
	"github.com/onair/onair/ingest/stream"
)

// failingEncoder stands in for a hardware encoder that fails mid-broadcast
// (no real one exists on a machine without a GPU): libx264 with other
// parameter sets than the ladder's, whose Encode fails after a number of
// pictures, as NVENC does when its device is lost.
type failingEncoder struct {
	VideoEncoder
	left *atomic.Int64 // pictures before the failure, shared by its rung
}

func (e *failingEncoder) Encode(f *astiav.Frame, key bool) ([]Picture, error) {
	if f != nil && e.left.Add(-1) < 0 {
		return nil, errors.New("device lost")
	}

	return e.VideoEncoder.Encode(f, key)
}

// switchSink is a fileSink that takes changed tracks, writing their units to
// the file of the track with the same ID, and records them.
type switchSink struct {
	*fileSink

	mu       sync.Mutex
	byID     map[int]*stream.Track
	switched map[int][]*stream.Track
	units    map[int][]*stream.Unit // by track ID, as written
}

func (s *switchSink) Start(tracks []*stream.Track) error {
	s.byID = map[int]*stream.Track{}
	for _, t := range tracks {
		s.byID[t.ID] = t
	}

	return s.fileSink.Start(tracks)
}

func (s *switchSink) SwitchTrack(t *stream.Track) error {
	s.mu.Lock()
	defer s.mu.Unlock()

	s.switched[t.ID] = append(s.switched[t.ID], t)

	return nil
}

func (s *switchSink) Write(u *stream.Unit) {
	s.mu.Lock()
	s.units[u.Track.ID] = append(s.units[u.Track.ID], u)
	s.mu.Unlock()

	c := *u
	c.Track = s.byID[u.Track.ID]
	s.fileSink.Write(&c)
}

// TestPipelineFallsBackToX264 fails the top rung's "hardware" encoder after
// 30 pictures and checks that every rung moves to libx264 at the next
// segment boundary, together, with new parameter sets announced and in-band,
// and that the rung files still decode.
func TestPipelineFallsBackToX264(t *testing.T) {
	clip := sourceClip(t)
	reader, _ := source{video: true, limit: 6 * time.Second}.feed(t, clip)
	sink := &switchSink{fileSink: newFileSink(t), switched: map[int][]*stream.Track{},
		units: map[int][]*stream.Unit{}}

	var top atomic.Int64
	top.Store(30)

	opened := map[string]int{}

	var openedMu sync.Mutex

	p := &Pipeline{
		Reader: reader, Sink: sink, Log: testLog(t), Threads: 2, KeepLadder: true,
		Encoder: "h264_nvenc",
		openEnc: func(cfg EncoderConfig) (VideoEncoder, error) {
			openedMu.Lock()
			opened[cfg.Rung.Name]++
			openedMu.Unlock()

			enc, err := openX264With(cfg, map[string]string{
				"x264-params": x264Params + ":ref=3:cabac=0"})
			if err != nil {
				return nil, err
			}

			left := &atomic.Int64{}
			left.Store(1 << 40)

			if cfg.Rung.Name == PlanLadder(1280, 720, 24)[0].Name {
				left = &top
			}

			return &failingEncoder{VideoEncoder: enc, left: left}, nil
		},
	}

	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	defer p.Close()

	<-p.Done()

	st := p.Status()
	if st.Encoder != DefaultEncoder || st.Fallback == "" {
		t.Fatalf("status after the failure: encoder %s, fallback %q", st.Encoder, st.Fallback)
	}

	var firstX264 time.Duration

	for i, tr := range sink.tracks {
		if !tr.IsVideo() {
			continue
		}

		if st.Rungs[i].Encoder != DefaultEncoder {
			t.Errorf("rung %s reports encoder %s", tr.Name, st.Rungs[i].Encoder)
		}

		sw := sink.switched[tr.ID]
		if len(sw) != 1 || bytes.Equal(sw[0].SPS, tr.SPS) || sw[0].Name != tr.Name {
			t.Fatalf("rung %s: %d switches, want one with a new SPS", tr.Name, len(sw))
		}

		units := sink.units[tr.ID]
		start := -1

		for j, u := range units {
			if u.Track == sw[0] {
				start = j

				break
			}
		}

		if start <= 0 {
			t.Fatalf("rung %s: libx264 units start at %d", tr.Name, start)
		}

		first := units[start]
		if !first.Key || !bytes.Equal(first.NALUs[0], sw[0].SPS) ||
			first.PTS%DefaultSegmentDuration > time.Second/10 {
			t.Errorf("rung %s: first libx264 picture at %v, key %v, in-band SPS %v", tr.Name,
				first.PTS, first.Key, bytes.Equal(first.NALUs[0], sw[0].SPS))
		}

		if firstX264 == 0 {
			firstX264 = first.PTS
		} else if first.PTS != firstX264 {
			t.Errorf("rung %s switched at %v, the top rung at %v", tr.Name, first.PTS, firstX264)
		}

		for _, u := range units[start:] {
			if u.Track != sw[0] {
				t.Fatalf("rung %s: a unit of the old track after the switch", tr.Name)
			}
		}

		if got := probe(t, sink.path(tr), "v"); len(got.keys) != len(units) {
			t.Errorf("rung %s: ffprobe decodes %d pictures of %d", tr.Name, len(got.keys),
				len(units))
		}
	}

	if firstX264 != DefaultSegmentDuration {
		t.Errorf("switch at %v, want the first boundary after the failure, %v", firstX264,
			DefaultSegmentDuration)
	}

	openedMu.Lock()
	defer openedMu.Unlock()

	for name, n := range opened {
		if n != 1 {
			t.Errorf("rung %s: the hardware encoder was opened %d times", name, n)
		}
	}
}
