package transcode

import (
	"fmt"
	"math"
)

// Ladder limits.
const (
	// maxFrameRate caps the output frame rate of every rung.
	maxFrameRate = 60

	// highFrameRate is the rate above which bitrates are raised by highRateGain.
	highFrameRate = 30
	highRateGain  = 1.5

	// smallBitrate is the bitrate of the single rung of a source below 360p.
	smallBitrate = 500_000
)

// ladderSteps are SPEC §3's rungs, from the top down, with their bitrates at
// up to 30 fps.
var ladderSteps = []struct {
	height  int
	bitrate int
}{
	{1080, 5_000_000},
	{720, 2_800_000},
	{480, 1_400_000},
	{360, 800_000},
}

// Rung is one rendition of the ladder.
type Rung struct {
	Name      string  // "1080p", "720p", …
	Width     int     // even
	Height    int     // even
	FrameRate float64 // the source's, capped at 60
	Bitrate   int     // target bits per second
}

// PlanLadder returns the rungs for a source of the given size and frame rate,
// from the top down. It returns nil when the size is unknown.
func PlanLadder(width, height int, frameRate float64) []Rung {
	if width <= 0 || height <= 0 {
		return nil
	}

	if frameRate <= 0 || frameRate > maxFrameRate {
		frameRate = min(max(frameRate, 0), maxFrameRate)
		if frameRate == 0 {
			frameRate = highFrameRate
		}
	}

	gain := 1.0
	if frameRate > highFrameRate {
		gain = highRateGain
	}

	var rungs []Rung
	for _, s := range ladderSteps {
		if s.height > height {
			continue
		}

		rungs = append(rungs, Rung{
			Name:      fmt.Sprintf("%dp", s.height),
			Width:     evenWidth(width, height, s.height),
			Height:    s.height,
			FrameRate: frameRate,
			Bitrate:   int(float64(s.bitrate) * gain),
		})
	}

	if len(rungs) > 0 {
		return rungs
	}

	h := max(height&^1, 2)

	return []Rung{{
		Name:      fmt.Sprintf("%dp", h),
		Width:     max(width&^1, 2),
		Height:    h,
		FrameRate: frameRate,
		Bitrate:   int(smallBitrate * gain),
	}}
}

// evenWidth scales width to height h keeping the aspect ratio, rounded to the
// nearest even number.
func evenWidth(width, height, h int) int {
	w := float64(width) * float64(h) / float64(height)

	return max(int(math.Round(w/2))*2, 2)
}
