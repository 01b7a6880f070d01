package srt

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/onair/onair/ingest/stream"
)

// newTestInput returns an input with a recorder on its hub.
func newTestInput(uid string, pass stream.Secret) (*testInput, *recorder) {
	in := &testInput{hub: &stream.Hub{InputUID: uid}, passphrase: pass}
	rec := &recorder{}
	rec.attach(in.hub)

	return in, rec
}

// publishArgs publishes the first seconds of the clip to url as MPEG-TS.
func publishArgs(url, streamID string, seconds int) []string {
	return []string{"-re", "-i", clipPath, "-t", strconv.Itoa(seconds), "-c", "copy",
		"-f", "mpegts", "-srt_streamid", streamID, url}
}

func TestPublishWithFFmpeg(t *testing.T) {
	const pass = stream.Secret("0123456789abcdef0123")

	cases := []struct {
		name     string
		streamID string
		pass     stream.Secret
		input    stream.Secret
	}{
		{"bare stream id with passphrase", "pub-id", pass, pass},
		{"access-control form", "#!::m=publish,u=cam,r=pub-id", pass, pass},
		{"input without passphrase", "pub-id", "", ""},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in, rec := newTestInput("in1", tc.input)
			dir := &testDirectory{publish: map[string]*testInput{"pub-id": in}}
			_, addr, tl := startServer(t, dir)
			defer func() {
				if t.Failed() {
					t.Log(tl.String())
				}
			}()

			out, err := runFFmpeg(t, 30*time.Second, publishArgs(srtURL(addr, tc.pass), tc.streamID, 2)...)
			if err != nil {
				t.Fatalf("ffmpeg: %v: %s", err, out)
			}

			waitEnded(t, rec)
			checkRecording(t, rec)

			if _, _, ends := rec.snapshot(); !errors.Is(ends[0], stream.ErrEnded) {
				t.Errorf("broadcast ended with %v, want %v", ends[0], stream.ErrEnded)
			}
		})
	}
}

// TestLostPublisher kills a publisher, so that it never closes its
// connection: the broadcast ends when libsrt gives up on the silent link, as
// a lost connection, not as the publisher's own end.
func TestLostPublisher(t *testing.T) {
	in, rec := newTestInput("in1", "")
	dir := &testDirectory{publish: map[string]*testInput{"pub-id": in}}
	_, addr, tl := startServer(t, dir)

	out, err := runFFmpeg(t, 3*time.Second, publishArgs(srtURL(addr, ""), "pub-id", 20)...)
	if err == nil {
		t.Fatalf("ffmpeg finished a 20 s publication within 3 s: %s", out)
	}

	waitEnded(t, rec)

	_, _, ends := rec.snapshot()
	if !errors.Is(ends[0], ErrConnectionLost) {
		t.Errorf("broadcast ended with %v, want %v", ends[0], ErrConnectionLost)
	}

	if !strings.Contains(tl.String(), "without data") {
		t.Errorf("no line says how long the link was silent:\n%s", tl.String())
	}
}

// waitEnded waits for the first broadcast to end.
func waitEnded(t *testing.T, rec *recorder) {
	t.Helper()

	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if _, _, ends := rec.snapshot(); len(ends) > 0 {
			rec.wg.Wait()

			return
		}

		time.Sleep(20 * time.Millisecond)
	}

	t.Fatal("broadcast did not end")
}

// checkRecording checks one H.264 + AAC broadcast with rising timestamps.
func checkRecording(t *testing.T, rec *recorder) {
	t.Helper()

	bs, units, _ := rec.snapshot()
	if len(bs) != 1 {
		t.Fatalf("got %d broadcasts, want 1", len(bs))
	}

	tracks := bs[0]
	if len(tracks) != 2 || tracks[0].Codec != stream.CodecH264 || tracks[1].Codec != stream.CodecAAC {
		t.Fatalf("tracks: got %v", describe(tracks))
	}

	if tracks[0].Width == 0 || len(tracks[0].SPS) == 0 || len(tracks[1].AudioConfig) == 0 ||
		tracks[1].SampleRate == 0 {
		t.Fatalf("track configuration missing: %+v %+v", tracks[0], tracks[1])
	}

	last := map[*stream.Track]time.Duration{}
	counts := map[*stream.Track]int{}

	for i, u := range units {
		if i == 0 && (!u.Key || !u.Track.IsVideo()) {
			t.Fatalf("first unit is not a video keyframe: %+v", u)
		}

		if u.DTS > u.PTS || u.DTS < last[u.Track] {
			t.Fatalf("unit %d: dts %v pts %v after dts %v", i, u.DTS, u.PTS, last[u.Track])
		}

		last[u.Track] = u.DTS
		counts[u.Track]++
	}

	// Two seconds of 24 fps video and 44.1 kHz AAC; allow the cut's slack.
	if counts[tracks[0]] < 40 || counts[tracks[1]] < 60 {
		t.Fatalf("got %d pictures and %d audio frames", counts[tracks[0]], counts[tracks[1]])
	}
}

func describe(tracks []*stream.Track) []string {
	var out []string
	for _, tr := range tracks {
		out = append(out, tr.Codec.String())
	}

	return out
}
