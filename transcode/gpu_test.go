//go:build gpu

package transcode

import (
	"testing"
	"time"
)

// TestGPUNvencProbe needs an NVIDIA GPU: --hwaccel nvenc and auto pick
// h264_nvenc.
func TestGPUNvencProbe(t *testing.T) {
	res, err := ProbeEncoders("nvenc")
	if err != nil {
		t.Fatalf("nvenc on a GPU machine: %v", err)
	}

	if auto, _ := ProbeEncoders(HWAccelAuto); auto.Encoder != "h264_nvenc" {
		t.Fatalf("auto chose %s (%s)", auto.Encoder, auto.Reasons())
	}

	t.Log(res.Encoder)
}

// TestGPUNvencLadder transcodes the sample clip with h264_nvenc and checks
// the rungs decode and keep their keyframes at the segment boundaries.
func TestGPUNvencLadder(t *testing.T) {
	if _, err := ProbeEncoders("nvenc"); err != nil {
		t.Fatalf("nvenc: %v", err)
	}

	clip := sourceClip(t)
	reader, _ := source{video: true, limit: 6 * time.Second}.feed(t, clip)
	sink := newFileSink(t)
	p := &Pipeline{Reader: reader, Sink: sink, Log: testLog(t), KeepLadder: true,
		Encoder: "h264_nvenc"}

	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	defer p.Close()

	<-p.Done()

	if st := p.Status(); st.Encoder != "h264_nvenc" || st.Fallback != "" {
		t.Fatalf("status %+v", st)
	}

	for _, tr := range sink.tracks {
		units := sink.units[tr]
		got := probe(t, sink.path(tr), "v")

		if len(units) == 0 || len(got.keys) != len(units) {
			t.Errorf("rung %s: %d units, ffprobe decodes %d", tr.Name, len(units), len(got.keys))
		}

		checkSpacing(t, tr.Name, keyTimes(t, tr.Name, units, got.keys), DefaultSegmentDuration)
	}
}
