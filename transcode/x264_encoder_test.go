package transcode

import (
	"bytes"
	"testing"

	"github.com/asticode/go-astiav"
)

// TestX264PresetsShareParameterSets checks that switching presets keeps the
// SPS and PPS announced in the output track valid.
func TestX264PresetsShareParameterSets(t *testing.T) {
	factory, err := LookupEncoder(DefaultEncoder)
	if err != nil {
		t.Fatal(err)
	}

	rung := Rung{Name: "360p", Width: 640, Height: 360, FrameRate: 25, Bitrate: 800_000}

	var sps0, pps0 []byte
	for i, preset := range presets {
		enc, err := factory(EncoderConfig{Rung: rung, Preset: preset, Threads: 1, KeyInterval: 250})
		if err != nil {
			t.Fatal(err)
		}

		sps, pps := enc.ParameterSets()
		enc.Close()

		if i == 0 {
			sps0, pps0 = sps, pps

			continue
		}

		if !bytes.Equal(sps, sps0) || !bytes.Equal(pps, pps0) {
			t.Errorf("preset %s: SPS %x PPS %x, %s had SPS %x PPS %x",
				preset, sps, pps, presets[0], sps0, pps0)
		}
	}
}

func TestLookupEncoder(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"", true},
		{"libx264", true},
		{"h264_nvenc_typo", false},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LookupEncoder(tt.name)
			if (err == nil) != tt.ok {
				t.Fatalf("LookupEncoder(%q) = %v", tt.name, err)
			}
		})
	}
}

func TestRational(t *testing.T) {
	tests := []struct {
		fps      float64
		num, den int
	}{
		{24, 24, 1},
		{25, 25, 1},
		{12.5, 25, 2},
		{29.97, 30000, 1001},
		{59.94, 60000, 1001},
		{23.976, 24000, 1001},
		{0, 30, 1},
	}

	for _, tt := range tests {
		got := rational(tt.fps)
		if got != astiav.NewRational(tt.num, tt.den) {
			t.Errorf("rational(%v) = %s, want %d/%d", tt.fps, got, tt.num, tt.den)
		}
	}
}
