package packager

import (
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
)

func TestAVCCodec(t *testing.T) {
	tests := []struct {
		name    string
		sps     []byte
		want    string
		wantErr bool
	}{
		{"high 3.0", []byte{0x67, 0x64, 0x00, 0x1e, 0xac}, "avc1.64001e", false},
		{"constrained baseline 3.1", []byte{0x67, 0x42, 0xc0, 0x1f}, "avc1.42c01f", false},
		{"main 4.0", []byte{0x67, 0x4d, 0x40, 0x28, 0x95}, "avc1.4d4028", false},
		{"too short", []byte{0x67, 0x64}, "", true},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := avcCodec(tt.sps)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("avcCodec = %q, %v; want %q, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestAACCodec(t *testing.T) {
	tests := []struct {
		name string
		conf []byte
		want string
	}{
		{"lc 48k stereo", []byte{0x11, 0x90}, "mp4a.40.2"},
		{"lc 44.1k mono", []byte{0x12, 0x08}, "mp4a.40.2"},
		{"he-aac explicit sbr", []byte{0x2b, 0x92, 0x08, 0x00}, "mp4a.40.5"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var conf mpeg4audio.AudioSpecificConfig

			err := conf.Unmarshal(tt.conf)
			if err != nil {
				t.Fatal(err)
			}

			if got := aacCodec(&conf); got != tt.want {
				t.Errorf("aacCodec = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestTicks(t *testing.T) {
	tests := []struct {
		d         time.Duration
		timescale uint32
		want      uint64
	}{
		{time.Second, 90000, 90000},
		{40 * time.Millisecond, 90000, 3600},
		{time.Second / 3, 90000, 30000},
		{1024 * time.Second / 48000, 48000, 1024},
		{10 * time.Hour, 90000, 10 * 3600 * 90000},
		{0, 44100, 0},
	}

	for _, tt := range tests {
		if got := ticks(tt.d, tt.timescale); got != tt.want {
			t.Errorf("ticks(%v, %d) = %d, want %d", tt.d, tt.timescale, got, tt.want)
		}

		if back := tickDuration(tt.want, tt.timescale); ticks(back, tt.timescale) != tt.want {
			t.Errorf("tickDuration(%d, %d) = %v does not round-trip", tt.want, tt.timescale, back)
		}
	}
}

func TestParseSegmentURI(t *testing.T) {
	tests := []struct {
		uri  string
		seq  uint64
		want bool
	}{
		{"seg_0.m4s", 0, true},
		{"seg_42.m4s", 42, true},
		{"seg_042.m4s", 0, false},
		{"seg_.m4s", 0, false},
		{"seg_-1.m4s", 0, false},
		{"seg_1.mp4", 0, false},
		{"init.mp4", 0, false},
		{"seg_99999999999999999999.m4s", 0, false},
	}

	for _, tt := range tests {
		seq, ok := parseSegmentURI(tt.uri)
		if ok != tt.want || seq != tt.seq {
			t.Errorf("parseSegmentURI(%q) = %d, %v; want %d, %v", tt.uri, seq, ok, tt.seq, tt.want)
		}
	}
}
