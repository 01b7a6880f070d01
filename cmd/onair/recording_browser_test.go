package main

import (
	"encoding/json"
	"math"
	"strconv"
	"testing"
)

// recordingSeconds is how long the broadcast that the recording player
// test publishes lasts.
const recordingSeconds = 14

// vodResult is what web/playertest/run.mjs reports in --mode vod for one
// player. Times are the video element's currentTime, in seconds.
type vodResult struct {
	Player          string       `json:"player"`
	Started         bool         `json:"started"`
	StartError      string       `json:"startError"`
	Error           string       `json:"error"`
	CrossOrigin     bool         `json:"crossOrigin"`
	StartedAt       float64      `json:"startedAt"` // -1: nothing played
	BufferedAtStart [][2]float64 `json:"bufferedAtStart"`
	Duration        *float64     `json:"duration"`
	DurationText    string       `json:"durationText"`
	SeekFrom        float64      `json:"seekFrom"`
	SeekTarget      float64      `json:"seekTarget"`
	SeekedAt        *float64     `json:"seekedAt"`
	BufferedAtSeek  [][2]float64 `json:"bufferedAtSeek"`
	Samples         []float64    `json:"samples"`
	CleanRun        float64      `json:"cleanRun"`
	Stalls          []struct {
		Second      int     `json:"second"`
		CurrentTime float64 `json:"currentTime"`
		Events      int     `json:"events"`
	} `json:"stalls"`
	Ended   bool         `json:"ended"`
	EndedAt *float64     `json:"endedAt"`
	Played  [][2]float64 `json:"played"`
	Foreign []string     `json:"foreign"`
	Failed  []string     `json:"failed"`
	Report  struct {
		Errors []string `json:"errors"`
	} `json:"report"`
}

// TestBrowserPlaysRecording publishes a short broadcast and, once its video
// is ready, plays the recording in headless Chromium with hls.js and
// dash.js through onair edge, from a page on another loopback port: each
// player starts at 0, reports the broadcast's duration, lands where a seek
// to the middle aims, plays on from there without a stall, skipping what
// lies between, and plays to the end.
func TestBrowserPlaysRecording(t *testing.T) {
	node, chromium := browserTools(t)

	n := startNode(t)
	edge := startEdge(t, n.base)
	li := n.createInput(t)

	pub := startFFmpeg(t, "-re", "-t", itoa(recordingSeconds), "-i", smallClip(t), "-c", "copy",
		"-f", "flv", n.rtmp+li.RTMP.StreamKey)
	if err := pub.wait(t); err != nil {
		t.Fatalf("publisher: %v\n%s", err, pub.out.String())
	}

	v := n.waitVideos(t, li.UID, "ready", states("ready"))[0]
	t.Logf("video %s ready, %.3f s", v.UID, v.Duration)

	base := edge + "/" + v.UID + "/manifest/"
	raw := runPlayerScript(t, node, chromium, "--mode", "vod", "--hls", base+"video.m3u8",
		"--dash", base+"video.mpd")

	for _, name := range []string{"hls", "dash"} {
		b, ok := raw[name]
		if !ok {
			t.Errorf("%s: no result", name)

			continue
		}

		var r vodResult
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatalf("%s result: %v", name, err)
		}

		checkVODResult(t, r, recordingSeconds)
	}
}

// checkVODResult checks one player's run of a recording of a broadcast of
// the given length.
func checkVODResult(t *testing.T, r vodResult, seconds float64) {
	t.Helper()

	if !r.Started {
		t.Fatalf("%s: playback never started: %s; errors %v; failed %v", r.Player,
			r.StartError, r.Report.Errors, r.Failed)
	}

	if !r.CrossOrigin {
		t.Errorf("%s: the page and the stream share an origin: CORS not exercised", r.Player)
	}

	if len(r.Foreign) > 0 {
		t.Errorf("%s: requests left loopback: %v", r.Player, r.Foreign)
	}

	if len(r.Report.Errors) > 0 || len(r.Failed) > 0 || r.Error != "" {
		t.Errorf("%s: player errors %v, failed requests %v, %s", r.Player, r.Report.Errors,
			r.Failed, r.Error)
	}

	// The recording's audio may begin a fraction of a second after its
	// video (0 to 0.38 s seen), and dash.js starts where both are buffered;
	// the second segment starts 2 s in.
	if r.StartedAt < 0 || r.StartedAt >= 1 {
		t.Errorf("%s: playback started at %.2f s (buffered %v, played %v), want 0", r.Player,
			r.StartedAt, r.BufferedAtStart, r.Played)
	}

	// The recording ends on a segment boundary: within a segment (2 s) of
	// the broadcast.
	if r.Duration == nil || math.Abs(*r.Duration-seconds) > 2 {
		t.Fatalf("%s: duration %s, want %.0f s", r.Player, r.DurationText, seconds)
	}

	if math.Abs(r.SeekTarget-seconds/2) > 1 {
		t.Errorf("%s: seek to %.2f s, want the middle of %.0f s", r.Player, r.SeekTarget,
			seconds)
	}

	if r.SeekedAt == nil || math.Abs(*r.SeekedAt-r.SeekTarget) > 1 {
		t.Fatalf("%s: seek to %.2f s landed at %s s", r.Player, r.SeekTarget,
			fmtSeconds(r.SeekedAt))
	}

	if r.CleanRun < 2 {
		t.Errorf("%s: after the seek currentTime advanced %.2f s in a row at most, want 2; "+
			"stalls %+v, samples %v", r.Player, r.CleanRun, r.Stalls, r.Samples)
	}

	checkPlayed(t, r)

	if !r.Ended || r.EndedAt == nil || math.Abs(*r.EndedAt-seconds) > 2 {
		t.Errorf("%s: ended %v at %s s, want the end of %.0f s; samples %v", r.Player, r.Ended,
			fmtSeconds(r.EndedAt), seconds, r.Samples)
	}

	t.Logf("%s: started at %.2f s (buffered %v), duration %.2f s, seek from %.2f s to %.2f s (buffered %v) "+
		"landed at %.2f s, played %v, stalls %+v", r.Player, r.StartedAt, r.BufferedAtStart,
		*r.Duration,
		r.SeekFrom, r.SeekTarget, r.BufferedAtSeek, *r.SeekedAt, r.Played, r.Stalls)
}

// checkPlayed checks the ranges the video element played: one from where
// the seek landed on, and none through the part the seek skipped.
func checkPlayed(t *testing.T, r vodResult) {
	t.Helper()

	skipFrom, skipTo := r.SeekFrom+1, r.SeekTarget-1
	resumed := false

	for _, p := range r.Played {
		if p[0] < skipTo && p[1] > skipFrom {
			t.Errorf("%s: played %v: %.2f-%.2f s played through, not skipped by the seek",
				r.Player, r.Played, skipFrom, skipTo)
		}

		if math.Abs(p[0]-*r.SeekedAt) <= 1 && p[1] >= *r.SeekedAt+2 {
			resumed = true
		}
	}

	if !resumed {
		t.Errorf("%s: played %v: no range from %.2f s on, where the seek landed", r.Player,
			r.Played, *r.SeekedAt)
	}
}

// fmtSeconds formats a time the script may not have reported.
func fmtSeconds(s *float64) string {
	if s == nil {
		return "no"
	}

	return strconv.FormatFloat(*s, 'f', 2, 64)
}
