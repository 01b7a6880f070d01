package main

import (
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestHWAccelChoices checks that --hwaccel takes the five values and nothing
// else.
func TestHWAccelChoices(t *testing.T) {
	tests := []struct {
		value string
		ok    bool
	}{
		{"auto", true}, {"none", true}, {"nvenc", true}, {"qsv", true}, {"vaapi", true},
		{"cuda", false}, {"", false},
	}

	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			cfg := &config{Data: t.TempDir(), HTTP: "127.0.0.1:0", HWAccel: tt.value,
				LogLevel: "info", LogFormat: "text"}

			err := cfg.validate()
			if (err == nil) != tt.ok {
				t.Fatalf("--hwaccel %q: %v", tt.value, err)
			}

			if err != nil && !strings.Contains(err.Error(), "--hwaccel") {
				t.Fatalf("error %q does not name --hwaccel", err)
			}
		})
	}
}

// TestServeRefusesUnavailableEncoder starts a node with each hardware
// encoder named explicitly, on a machine where none works: the start fails
// naming the encoder and why, and nothing is left listening.
func TestServeRefusesUnavailableEncoder(t *testing.T) {
	if enc, _ := probeHWAccel("auto", slog.New(slog.DiscardHandler)); enc != "libx264" {
		t.Skipf("%s works on this machine", enc)
	}

	for _, hw := range []string{"nvenc", "qsv", "vaapi"} {
		t.Run(hw, func(t *testing.T) {
			cfg := &config{Data: t.TempDir(), HTTP: "127.0.0.1:0", RTMP: "127.0.0.1:0",
				PublicURL: "http://127.0.0.1:8080", HWAccel: hw, LogLevel: "info",
				LogFormat: "text"}
			if err := cfg.validate(); err != nil {
				t.Fatal(err)
			}

			n := &node{cfg: cfg, log: slog.New(slog.DiscardHandler)}

			err := n.Start()
			if err == nil {
				n.Shutdown(t.Context())
				t.Fatalf("--hwaccel %s started", hw)
			}

			if !strings.Contains(err.Error(), "h264_"+hw) || !strings.Contains(err.Error(), hw) {
				t.Fatalf("error %q does not name h264_%s", err, hw)
			}

			if n.httpLn != nil {
				t.Fatal("a listener was opened")
			}
		})
	}
}

// TestMetrics publishes a clip and reads /metrics: the input's encoder, its
// rungs' picture counts and the process gauges.
func TestMetrics(t *testing.T) {
	n := startNode(t)
	li := n.createInput(t)

	startFFmpeg(t, "-re", "-i", sampleClip(t), "-t", "6", "-c", "copy", "-f", "flv",
		n.rtmp+li.RTMP.StreamKey)
	n.waitState(t, li.UID, "connected")

	want := `onair_transcode_encoder{input="` + li.UID + `",encoder="libx264"} 1`

	var body string

	for range 100 {
		_, hdr, b := httpGet(t, n.base+"/metrics")
		body = b

		if !strings.HasPrefix(hdr.Get("Content-Type"), "text/plain") {
			t.Fatalf("content type %q", hdr.Get("Content-Type"))
		}

		if strings.Contains(body, want) && framesCounted(body, li.UID) {
			break
		}

		time.Sleep(100 * time.Millisecond)
	}

	for _, w := range []string{want, "go_goroutines ", "go_memstats_heap_alloc_bytes "} {
		if !strings.Contains(body, w) {
			t.Errorf("/metrics lacks %q:\n%s", w, body)
		}
	}

	if !framesCounted(body, li.UID) {
		t.Errorf("/metrics counts no frames:\n%s", body)
	}
}

// framesCounted says whether the input has a rung with pictures encoded.
func framesCounted(body, uid string) bool {
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, `onair_transcode_frames_total{input="`+uid+`"`) &&
			!strings.HasSuffix(line, " 0") {
			return true
		}
	}

	return false
}
