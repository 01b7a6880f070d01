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

	// sourceRungGap is how much taller than the step below it a source must
	// be to get a rung of its own size: 432p does (1.2 times 360p), 370p
	// does not.
	sourceRungGap = 1.1
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
//
// Rungs are named and sized by the picture's short side, so that a portrait
// 1080x1920 source gets a "1080p" rung of 1080x1920. A source between two
// steps (432p, 719p) also gets a rung at its own size, so that viewers with
// the bandwidth see it unscaled; no rung is ever larger than the source.
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

	short := min(width, height)
	top := ladderSteps[0].height

	var rungs []Rung
	for i, s := range ladderSteps {
		if s.height > short {
			continue
		}

		// The source's own size, between this step and the one above.
		if len(rungs) == 0 && i > 0 && short < top && float64(short) > sourceRungGap*float64(s.height) {
			above := ladderSteps[i-1]
			scale := float64(short) / float64(above.height)
			rungs = append(rungs, rung(width, height, short&^1,
				float64(above.bitrate)*scale*scale*gain, frameRate))
		}

		rungs = append(rungs, rung(width, height, s.height, float64(s.bitrate)*gain, frameRate))
	}

	if len(rungs) > 0 {
		return rungs
	}

	return []Rung{rung(width, height, max(short&^1, 2), smallBitrate*gain, frameRate)}
}

// rung sizes a rung whose short side is short, keeping the source's aspect
// ratio and orientation.
func rung(width, height, short int, bitrate, frameRate float64) Rung {
	r := Rung{
		Name:      fmt.Sprintf("%dp", short),
		Width:     short,
		Height:    short,
		FrameRate: frameRate,
		Bitrate:   int(bitrate),
	}

	if width >= height {
		r.Width = min(evenWidth(width, height, short), width&^1)
	} else {
		r.Height = min(evenWidth(height, width, short), height&^1)
	}

	return r
}

// evenWidth scales width to height h keeping the aspect ratio, rounded to the
// nearest even number.
func evenWidth(width, height, h int) int {
	w := float64(width) * float64(h) / float64(height)

	return max(int(math.Round(w/2))*2, 2)
}
