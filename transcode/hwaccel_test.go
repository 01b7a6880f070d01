package transcode

import (
	"errors"
	"strings"
	"testing"
)

// TestHardwareOptionTables checks every option table, with each preset the
// ladder can ask for, against the encoder's own AVOption list.
func TestHardwareOptionTables(t *testing.T) {
	if err := checkEncoderOption("h264_nvenc", "no-such-option", "1"); err == nil {
		t.Fatal("an unknown option passed the check")
	}

	if err := checkEncoderOption("h264_nvenc", "rc", "warp"); err == nil {
		t.Fatal("a value that is no named constant passed the check")
	}

	if err := checkEncoderOption("h264_nvenc", "aq-strength", "99"); err == nil {
		t.Fatal("an out-of-range value passed the check")
	}

	for _, b := range hwBackends {
		for _, preset := range append([]string{"unknown"}, presets...) {
			cfg := EncoderConfig{Rung: probeRung, Preset: preset}
			for k, v := range hardwareOptions(b, cfg) {
				if err := checkEncoderOption(b.encoder, k, v); err != nil {
					t.Errorf("%s preset %s: %v", b.hwaccel, preset, err)
				}
			}
		}

		for _, p := range presets {
			if _, ok := b.presets[p]; !ok {
				t.Errorf("%s: ladder preset %s has no mapping", b.hwaccel, p)
			}
		}

		for _, k := range []string{"bf", b.presetKey} {
			if _, ok := hardwareOptions(b, EncoderConfig{Preset: presets[0]})[k]; !ok {
				t.Errorf("%s: option table lacks %s", b.hwaccel, k)
			}
		}
	}
}

// TestProbeOrder checks the order --hwaccel auto tries the encoders in and
// that the first that works is chosen.
func TestProbeOrder(t *testing.T) {
	tests := []struct {
		name    string
		working string // the one encoder that works, "" for none
		want    string
		tried   []string
	}{
		{"none works", "", "libx264", []string{"h264_nvenc", "h264_qsv", "h264_vaapi"}},
		{"nvenc first", "h264_nvenc", "h264_nvenc", []string{"h264_nvenc"}},
		{"qsv second", "h264_qsv", "h264_qsv", []string{"h264_nvenc", "h264_qsv"}},
		{"vaapi last", "h264_vaapi", "h264_vaapi", []string{"h264_nvenc", "h264_qsv", "h264_vaapi"}},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tried []string

			res, err := probeWith(HWAccelAuto, func(name string) error {
				tried = append(tried, name)
				if name == tt.working {
					return nil
				}

				return errors.New("no device")
			})
			if err != nil {
				t.Fatal(err)
			}

			if res.Encoder != tt.want || strings.Join(tried, ",") != strings.Join(tt.tried, ",") {
				t.Fatalf("chose %s after %v, want %s after %v", res.Encoder, tried, tt.want, tt.tried)
			}

			if len(res.Tried) != len(tt.tried) {
				t.Fatalf("result lists %d attempts, want %d", len(res.Tried), len(tt.tried))
			}
		})
	}
}

// TestProbeRealEncoders opens the real hardware encoders, which fail on a
// machine without their devices: auto falls back to libx264 naming each
// failure, an explicit choice is an error, none is libx264.
func TestProbeRealEncoders(t *testing.T) {
	if hardwarePresent(t) {
		t.Skip("a hardware encoder works here; the gpu-tagged tests cover this machine")
	}

	res, err := ProbeEncoders(HWAccelAuto)
	if err != nil {
		t.Fatal(err)
	}

	if res.Encoder != DefaultEncoder {
		t.Fatalf("auto chose %s", res.Encoder)
	}

	reasons := res.Reasons()
	for i, want := range []string{"h264_nvenc", "h264_qsv", "h264_vaapi"} {
		if res.Tried[i].Encoder != want || res.Tried[i].Err == nil {
			t.Fatalf("attempt %d: %+v, want %s failing", i, res.Tried[i], want)
		}

		if !strings.Contains(reasons, want+": ") {
			t.Fatalf("reasons %q do not name %s", reasons, want)
		}
	}

	tests := []struct {
		hwaccel string
		encoder string
	}{
		{"nvenc", "h264_nvenc"},
		{"qsv", "h264_qsv"},
		{"vaapi", "h264_vaapi"},
	}

	for _, tt := range tests {
		t.Run(tt.hwaccel, func(t *testing.T) {
			_, err := ProbeEncoders(tt.hwaccel)
			if !errors.Is(err, ErrHardwareUnavailable) || !strings.Contains(err.Error(), tt.encoder) {
				t.Fatalf("--hwaccel %s: %v", tt.hwaccel, err)
			}
		})
	}

	if res, err := ProbeEncoders(HWAccelNone); err != nil || res.Encoder != DefaultEncoder {
		t.Fatalf("none: %s, %v", res.Encoder, err)
	}

	if _, err := ProbeEncoders("magic"); err == nil {
		t.Fatal("an unknown --hwaccel value was accepted")
	}
}

// hardwarePresent says whether any hardware encoder opens on this machine.
func hardwarePresent(t *testing.T) bool {
	t.Helper()

	for _, b := range hwBackends {
		if probeEncoder(b.encoder) == nil {
			return true
		}
	}

	return false
}
