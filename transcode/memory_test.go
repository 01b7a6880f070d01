package transcode

import (
	"runtime/debug"
	"testing"
)

// TestSetMemoryDefaultsGCPercent checks that the GC percent is set unless
// GOGC says otherwise.
func TestSetMemoryDefaultsGCPercent(t *testing.T) {
	before := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(before) })

	tests := []struct {
		name string
		gogc string
		want int
	}{
		{"GOGC unset", "", gcPercent},
		{"GOGC set", "100", 100},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("GOGC", tt.gogc)
			debug.SetGCPercent(100)

			SetMemoryDefaults()

			if got := debug.SetGCPercent(100); got != tt.want {
				t.Errorf("GC percent %d, want %d", got, tt.want)
			}
		})
	}
}
