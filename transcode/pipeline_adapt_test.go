package transcode

import (
	"slices"
	"testing"
	"time"

	"github.com/onair/onair/ingest/stream"
)

// TestPipelineAdapts forces a lag through the probe and checks that the real
// pipeline steps presets, drops the top rung, and restores it on a keyframe
// boundary shared with the other rungs.
func TestPipelineAdapts(t *testing.T) {
	clip := sourceClip(t)

	tests := []struct {
		name string
		lags []time.Duration // one per observation, then low
		// wantGap is the keyframe times missing from the top rung.
		wantGap []time.Duration
		// wantLevel and wantPreset are the state at the end of the source.
		wantLevel  int
		wantPreset string
	}{
		{
			// Observations at 1 s, 2 s, …: level 1 at 1 s, 2 at 2 s, 3 (720p
			// dropped) at 3 s, applied at the 4 s keyframe; back to 2 at 5 s and
			// restored at the 6 s keyframe; level 1 (wanted at 7 s) waits for
			// the 8 s keyframe, past the end.
			name:       "high lag for three observations",
			lags:       []time.Duration{time.Hour, time.Hour, time.Hour},
			wantGap:    []time.Duration{4 * time.Second},
			wantLevel:  2,
			wantPreset: "ultrafast",
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reader, _ := source{video: true, limit: 8 * time.Second}.feed(t, clip)
			sink := newFileSink(t)
			obs := 0
			p := &Pipeline{
				Reader: reader, Sink: sink, Log: testLog(t), Threads: 2,
				Controller: Controller{UpAfter: 1, DownAfter: 2, Settle: -1},
				lagProbe: func() time.Duration {
					obs++
					if obs <= len(tt.lags) {
						return tt.lags[obs-1]
					}

					return 0
				},
			}

			if err := p.Start(); err != nil {
				t.Fatal(err)
			}
			defer p.Close()

			<-p.Done()

			top, bottom := sink.tracks[0], sink.tracks[len(sink.tracks)-1]
			topKeys, bottomKeys := keyPTS(sink.units[top]), keyPTS(sink.units[bottom])

			var gap []time.Duration
			for _, k := range bottomKeys {
				if !slices.Contains(topKeys, k) {
					gap = append(gap, k)
				}
			}

			if !slices.Equal(gap, tt.wantGap) {
				t.Errorf("top rung keyframes %v, bottom %v: missing %v, want %v",
					topKeys, bottomKeys, gap, tt.wantGap)
			}

			checkRestart(t, sink.units[top])

			st := p.Status()
			for _, r := range st.Rungs {
				if !r.Active || r.Preset != tt.wantPreset || st.Level != tt.wantLevel {
					t.Errorf("status after recovery: level %d, %+v", st.Level, r)
				}
			}
		})
	}
}

// keyPTS returns the PTS of the keyframes among units.
func keyPTS(units []*stream.Unit) []time.Duration {
	var keys []time.Duration
	for _, u := range units {
		if u.Key {
			keys = append(keys, u.PTS)
		}
	}

	return keys
}

// checkRestart checks that a rung resumes after a gap with a keyframe.
func checkRestart(t *testing.T, units []*stream.Unit) {
	t.Helper()

	for i := 1; i < len(units); i++ {
		if units[i].PTS-units[i-1].PTS > time.Second/10 && !units[i].Key {
			t.Errorf("rung resumed at %v without a keyframe", units[i].PTS)
		}
	}
}

func TestSplitThreads(t *testing.T) {
	tests := []struct {
		name  string
		total int
		want  []int
	}{
		{"plenty", 16, []int{9, 4, 2}},
		{"two", 2, []int{1, 1, 1}},
		{"one", 1, []int{1, 1, 1}},
	}

	rungs := PlanLadder(1280, 720, 24)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := splitThreads(tt.total, rungs); !slices.Equal(got, tt.want) {
				t.Fatalf("splitThreads(%d) = %v, want %v", tt.total, got, tt.want)
			}
		})
	}
}
