package transcode

import (
	"bytes"
	"image"
	"image/jpeg"
	"testing"
	"time"

	"github.com/onair/onair/packager"
	"github.com/onair/onair/packager/packagertest"
)

func TestStillBox(t *testing.T) {
	tests := []struct {
		name          string
		width, height int
		fit           string
		want          box
	}{
		{"source size", 0, 0, FitCrop, box{640, 360, 640, 360}},
		{"width only keeps the aspect", 320, 0, FitCrop, box{320, 180, 320, 180}},
		{"height only keeps the aspect", 0, 90, FitScale, box{160, 90, 160, 90}},
		{"crop fills and cuts the sides", 200, 200, FitCrop, box{356, 200, 200, 200}},
		{"clip fits inside", 200, 200, FitClip, box{200, 113, 200, 113}},
		{"fill pads", 200, 200, FitFill, box{200, 113, 200, 200}},
		{"scale stretches", 200, 200, FitScale, box{200, 200, 200, 200}},
		{"upscale", 1280, 720, FitClip, box{1280, 720, 1280, 720}},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := stillBox(640, 360, tt.width, tt.height, tt.fit); got != tt.want {
				t.Errorf("stillBox(640x360, %dx%d, %s) = %+v, want %+v", tt.width, tt.height,
					tt.fit, got, tt.want)
			}
		})
	}
}

// TestStill decodes stills from real CMAF segments: the sizes each fit asks
// for, pictures that differ with the time asked, and the latest keyframe.
func TestStill(t *testing.T) {
	m := packagertest.Make(t, packagertest.Options{Duration: 3 * time.Second,
		KeyInterval: time.Second, Rungs: []packagertest.Rung{
			{Name: "360p", Width: 640, Height: 360, Bitrate: 800_000}}})

	p := &packager.Presentation{SegmentDuration: time.Second}
	if err := p.Start(m.Tracks); err != nil {
		t.Fatal(err)
	}

	for _, u := range m.Units {
		p.Write(u)
	}

	p.End()

	still := func(at time.Duration, latest bool, w, h int, fit string) image.Image {
		t.Helper()

		src, err := p.Still(at, latest)
		if err != nil {
			t.Fatal(err)
		}

		data, err := Still(src.Init, src.Segment, src.Offset, w, h, fit)
		if err != nil {
			t.Fatal(err)
		}

		img, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}

		return img
	}

	for _, tt := range []struct {
		fit  string
		w, h int
	}{{FitCrop, 200, 200}, {FitClip, 200, 113}, {FitFill, 200, 200}, {FitScale, 200, 200}} {
		if b := still(0, false, 200, 200, tt.fit).Bounds(); b.Dx() != tt.w || b.Dy() != tt.h {
			t.Errorf("fit %s: %dx%d, want %dx%d", tt.fit, b.Dx(), b.Dy(), tt.w, tt.h)
		}
	}

	// testsrc2 moves: pictures half a second apart differ, the same time
	// gives the same picture.
	a, b := still(200*time.Millisecond, false, 0, 0, FitCrop),
		still(1700*time.Millisecond, false, 0, 0, FitCrop)
	again := still(200*time.Millisecond, false, 0, 0, FitCrop)

	if d := difference(a, b); d < 1 {
		t.Errorf("pictures 1.5 s apart differ by %.2f per pixel", d)
	}

	if d := difference(a, again); d != 0 {
		t.Errorf("the same time gave pictures that differ by %.2f", d)
	}

	if b := still(0, true, 0, 0, FitCrop).Bounds(); b.Dx() != 640 || b.Dy() != 360 {
		t.Errorf("latest keyframe: %v", b)
	}

	if _, err := Still(nil, []byte("not a segment"), 0, 0, 0, FitCrop); err == nil {
		t.Error("still of garbage succeeded")
	}
}

// difference is the mean absolute difference of the red channel.
func difference(a, b image.Image) float64 {
	var sum float64

	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			ra, _, _, _ := a.At(x, y).RGBA()
			rb, _, _, _ := b.At(x, y).RGBA()
			sum += max(float64(ra)-float64(rb), float64(rb)-float64(ra)) / 257
		}
	}

	return sum / float64(r.Dx()*r.Dy())
}
