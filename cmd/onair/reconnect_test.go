package main

import (
	"math"
	"regexp"
	"strings"
	"testing"
)

// publish sends seconds of a 640x360 test picture and tone to the input and
// waits for ffmpeg to finish.
func (n *testNode) publish(t *testing.T, li *liveInput, seconds int) {
	t.Helper()

	pub := startFFmpeg(t, append(lavfi(true, true, seconds), "-c:v", "libx264", "-preset",
		"ultrafast", "-g", "50", "-c:a", "aac", "-f", "flv", n.rtmp+li.RTMP.StreamKey)...)

	if err := pub.wait(t); err != nil {
		t.Fatalf("publisher: %v\n%s", err, pub.out.String())
	}
}

// TestReconnectWindow publishes twice to an input: back within
// recording.timeoutSeconds, the broadcast and its video continue across a
// discontinuity; back after it, the second broadcast is a second video.
func TestReconnectWindow(t *testing.T) {
	const seconds = 4

	tests := []struct {
		name    string
		timeout int
		back    string // the input's state the second publisher waits for
		videos  int
	}{
		{"inside", 12, "reconnecting", 1},
		{"outside", 1, "client_disconnect", 2},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := startNode(t)
			li := n.createInput(t)

			body := map[string]any{"recording": map[string]any{"timeoutSeconds": tt.timeout}}
			if code := n.call(t, "PUT", "/stream/live_inputs/"+li.UID, body, nil); code != 200 {
				t.Fatalf("PUT timeoutSeconds: %d", code)
			}

			n.publish(t, li, seconds)
			n.waitState(t, li.UID, tt.back)

			if tt.videos == 1 {
				checkStillLive(t, n, li.UID)
			}

			n.publish(t, li, seconds)

			if tt.videos == 1 {
				if st := n.input(t, li.UID).state(); st != "reconnected" {
					t.Errorf("input state after the publisher came back: %q, want reconnected", st)
				}

				checkContinued(t, n, li.UID)
			}

			want := make([]string, tt.videos)
			for i := range want {
				want[i] = "ready"
			}

			list := n.waitVideos(t, li.UID, "ready", states(want...))

			for _, v := range list {
				d := playedSeconds(t, n.base+"/"+v.UID+"/manifest/video.m3u8")
				total := float64(seconds * (3 - tt.videos))

				if math.Abs(v.Duration-total) > 2 || math.Abs(d-total) > 2 {
					t.Errorf("video %s: duration %.3f, plays %.3f s; want %.0f s", v.UID,
						v.Duration, d, total)
				}
			}

			if tt.videos == 1 {
				_, _, body := httpGet(t, n.base+"/"+list[0].UID+"/manifest/360p/index.m3u8")
				if strings.Count(body, "#EXT-X-DISCONTINUITY\n") != 1 {
					t.Errorf("recording of a reconnected broadcast:\n%s", body)
				}
			}
		})
	}
}

// checkStillLive checks that a broadcast waiting for its publisher has not
// ended: its playlist has no EXT-X-ENDLIST and its video is live.
func checkStillLive(t *testing.T, n *testNode, input string) {
	t.Helper()

	_, _, body := httpGet(t, n.base+"/"+input+"/manifest/360p/index.m3u8")
	if strings.Contains(body, "#EXT-X-ENDLIST") {
		t.Errorf("playlist ended while the publisher may come back:\n%s", body)
	}

	if list := n.videos(t, input); len(list) != 1 || list[0].Status.State != "live-inprogress" {
		t.Errorf("videos while the publisher may come back: %+v", list)
	}
}

// checkContinued checks the live playlist and MPD of a broadcast whose
// publisher came back: one discontinuity, media sequence numbers rising by
// one across it, and two DASH Periods.
func checkContinued(t *testing.T, n *testNode, input string) {
	t.Helper()

	_, _, body := httpGet(t, n.base+"/"+input+"/manifest/360p/index.m3u8")

	seqs := regexp.MustCompile(`seg_(\d+)\.m4s`).FindAllStringSubmatch(body, -1)
	for i := 1; i < len(seqs); i++ {
		if seqs[i][1] == seqs[i-1][1] || len(seqs[i][1]) < len(seqs[i-1][1]) ||
			(len(seqs[i][1]) == len(seqs[i-1][1]) && seqs[i][1] < seqs[i-1][1]) {
			t.Fatalf("media sequence numbers do not rise:\n%s", body)
		}
	}

	if strings.Count(body, "#EXT-X-DISCONTINUITY\n") != 1 {
		t.Errorf("live playlist after a reconnect, want one discontinuity:\n%s", body)
	}

	_, _, mpd := httpGet(t, n.base+"/"+input+"/manifest/video.mpd")
	if strings.Count(mpd, "<Period ") != 2 {
		t.Errorf("MPD after a reconnect, want two periods:\n%s", mpd)
	}
}

// TestReconnectWhileTranscoding has the publisher come back while the
// transcoder is still working through what the first one sent faster than
// real time: the backlog is dropped and the broadcast and its video continue,
// as within the window, instead of a second broadcast starting beside it.
func TestReconnectWhileTranscoding(t *testing.T) {
	n := startNode(t)
	li := n.createInput(t)

	body := map[string]any{"recording": map[string]any{"timeoutSeconds": 12}}
	if code := n.call(t, "PUT", "/stream/live_inputs/"+li.UID, body, nil); code != 200 {
		t.Fatalf("PUT timeoutSeconds: %d", code)
	}

	// Without -re, 20 s of media arrive in about a second, and the ladder
	// takes seconds more to encode them.
	first := startFFmpeg(t, "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25:duration=20",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=20",
		"-c:v", "libx264", "-preset", "ultrafast", "-g", "50", "-c:a", "aac", "-f", "flv",
		n.rtmp+li.RTMP.StreamKey)
	if err := first.wait(t); err != nil {
		t.Fatalf("publisher: %v\n%s", err, first.out.String())
	}

	if st := n.input(t, li.UID).state(); st != "connected" {
		t.Skipf("the transcoder caught up before the publisher came back (state %q): "+
			"nothing to test on this machine", st)
	}

	n.publish(t, li, 4)

	list := n.videos(t, li.UID)
	if len(list) != 1 {
		t.Fatalf("videos after the publisher came back during transcoding: %+v", list)
	}

	checkContinued(t, n, li.UID)
}
