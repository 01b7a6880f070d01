package transcode

import (
	"testing"
	"time"
)

func TestControllerSteps(t *testing.T) {
	const (
		high = 2 * time.Second
		low  = 100 * time.Millisecond
		mid  = time.Second
	)

	type step struct {
		lag     time.Duration
		times   int
		level   int // level after the observations
		preset  string
		dropped int
	}

	tests := []struct {
		name  string
		rungs int
		steps []step
	}{
		{
			name:  "steps presets, drops rungs, then restores rungs before presets",
			rungs: 3,
			steps: []step{
				{lag: low / 2, times: 10, level: 0, preset: "veryfast"},
				{lag: high * 2, times: 2, level: 0, preset: "veryfast"},
				{lag: high * 2, times: 1, level: 1, preset: "superfast"},
				// three observations to settle, then three over
				{lag: high * 2, times: 5, level: 1, preset: "superfast"},
				{lag: high * 2, times: 1, level: 2, preset: "ultrafast"},
				{lag: high * 2, times: 6, level: 3, preset: "ultrafast", dropped: 1},
				{lag: high * 2, times: 6, level: 4, preset: "ultrafast", dropped: 2},
				// never drops the last rung
				{lag: high * 2, times: 30, level: 4, preset: "ultrafast", dropped: 2},
				// in between: no change either way
				{lag: mid, times: 50, level: 4, preset: "ultrafast", dropped: 2},
				{lag: low / 2, times: 4, level: 4, preset: "ultrafast", dropped: 2},
				{lag: low / 2, times: 1, level: 3, preset: "ultrafast", dropped: 1},
				{lag: low / 2, times: 5, level: 2, preset: "ultrafast"},
				{lag: low / 2, times: 5, level: 1, preset: "superfast"},
				{lag: low / 2, times: 5, level: 0, preset: "veryfast"},
				{lag: low / 2, times: 50, level: 0, preset: "veryfast"},
			},
		},
		{
			name:  "a spike shorter than UpAfter changes nothing",
			rungs: 2,
			steps: []step{
				{lag: high * 3, times: 2, level: 0, preset: "veryfast"},
				{lag: mid, times: 1, level: 0, preset: "veryfast"},
				{lag: high * 3, times: 2, level: 0, preset: "veryfast"},
			},
		},
		{
			// A backlog draining after a step down keeps its level; one that
			// stops draining raises it again.
			name:  "a falling lag is catching up",
			rungs: 2,
			steps: []step{
				{lag: high * 4, times: 3, level: 1, preset: "superfast"},
				{lag: high * 4, times: 3, level: 1, preset: "superfast"}, // settling
				{lag: high * 3, times: 1, level: 1, preset: "superfast"},
				{lag: high * 2, times: 1, level: 1, preset: "superfast"},
				{lag: high*2 - catchingUp/2, times: 2, level: 1, preset: "superfast"},
				{lag: high*2 - catchingUp/2, times: 1, level: 2, preset: "ultrafast"},
			},
		},
		{
			// Each better level that does not hold doubles the wait before
			// the next try; one that held resets it.
			name:  "failed tries back off",
			rungs: 2,
			steps: []step{
				{lag: high * 2, times: 3, level: 1, preset: "superfast"},
				{lag: low / 2, times: 5, level: 0, preset: "veryfast"},
				{lag: high * 2, times: 3, level: 1, preset: "superfast"},
				{lag: low / 2, times: 9, level: 1, preset: "superfast"},
				{lag: low / 2, times: 1, level: 0, preset: "veryfast"},
				{lag: high * 2, times: 3, level: 1, preset: "superfast"},
				{lag: low / 2, times: 19, level: 1, preset: "superfast"},
				{lag: low / 2, times: 1, level: 0, preset: "veryfast"},
				{lag: low / 2, times: 30, level: 0, preset: "veryfast"},
				{lag: high * 2, times: 3, level: 1, preset: "superfast"},
				{lag: low / 2, times: 5, level: 0, preset: "veryfast"},
			},
		},
		{
			name:  "one rung: presets only",
			rungs: 1,
			steps: []step{
				{lag: high * 3, times: 30, level: 2, preset: "ultrafast"},
			},
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Controller{Rungs: tt.rungs, HighLag: high, LowLag: low, UpAfter: 3, DownAfter: 5}
			for i, s := range tt.steps {
				for range s.times {
					c.Observe(s.lag)
				}

				preset, dropped := c.Plan(c.Level())
				if c.Level() != s.level || preset != s.preset || dropped != s.dropped {
					t.Fatalf("step %d: level %d preset %s dropped %d, want %d %s %d",
						i, c.Level(), preset, dropped, s.level, s.preset, s.dropped)
				}
			}
		})
	}
}
