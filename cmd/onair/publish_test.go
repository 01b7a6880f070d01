package main

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// lavfi returns ffmpeg input arguments for seconds of synthetic media.
func lavfi(video, audio bool, seconds int) []string {
	var args []string
	if video {
		args = append(args, "-re", "-f", "lavfi", "-i",
			"testsrc2=size=640x360:rate=25:duration="+itoa(seconds))
	}

	if audio {
		args = append(args, "-re", "-f", "lavfi", "-i",
			"sine=frequency=440:sample_rate=48000:duration="+itoa(seconds))
	}

	return args
}

func itoa(n int) string {
	return strconv.Itoa(n)
}

func TestPublishRefusals(t *testing.T) {
	n := startNode(t)
	li := n.createInput(t)

	t.Run("wrong key", func(t *testing.T) {
		f := startFFmpeg(t, append(lavfi(true, false, 3), "-c:v", "libx264", "-f", "flv",
			n.rtmp+"not-a-key")...)
		if err := f.wait(t); err == nil {
			t.Fatal("ffmpeg published with a wrong key")
		}

		if s := n.input(t, li.UID).state(); s != "" {
			t.Fatalf("input status %q after a wrong key, want null", s)
		}
	})

	t.Run("second publisher", func(t *testing.T) {
		first := startFFmpeg(t, append(lavfi(true, true, 12), "-c:v", "libx264", "-preset",
			"ultrafast", "-c:a", "aac", "-f", "flv", n.rtmp+li.RTMP.StreamKey)...)
		n.waitState(t, li.UID, "connected")

		second := startFFmpeg(t, append(lavfi(true, false, 3), "-c:v", "libx264", "-f", "flv",
			n.rtmp+li.RTMP.StreamKey)...)
		if err := second.wait(t); err == nil {
			t.Fatal("second publisher was accepted")
		}

		// The first keeps streaming: its media playlist keeps growing.
		master := n.base + "/" + li.UID + "/manifest/video.m3u8"
		mv := waitVariants(t, master, 1, 1)
		media := resolve(master, mv.variants[0].uri)
		before := len(waitSegments(t, media, 1).extinf)
		after := len(waitSegments(t, media, before+1).extinf)

		if after <= before || n.input(t, li.UID).state() != "connected" {
			t.Fatalf("first publisher disturbed: segments %d then %d, state %q", before, after,
				n.input(t, li.UID).state())
		}

		if err := first.wait(t); err != nil {
			t.Fatalf("first publisher: %v\n%s", err, first.out.String())
		}

		n.waitState(t, li.UID, "client_disconnect")
	})

	t.Run("disabled input", func(t *testing.T) {
		if code := n.call(t, "PUT", "/stream/live_inputs/"+li.UID,
			map[string]any{"enabled": false}, nil); code != 200 {
			t.Fatalf("disable: status %d", code)
		}

		f := startFFmpeg(t, append(lavfi(true, false, 3), "-c:v", "libx264", "-f", "flv",
			n.rtmp+li.RTMP.StreamKey)...)
		if err := f.wait(t); err == nil {
			t.Fatal("ffmpeg published to a disabled input")
		}
	})
}

// waitSegments polls a media playlist until it lists at least n segments.
func waitSegments(t *testing.T, url string, n int) *playlist {
	t.Helper()

	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if code, _, body := httpGet(t, url); code == 200 {
			if p := parsePlaylist(t, body); len(p.extinf) >= n {
				return p
			}
		}

		time.Sleep(200 * time.Millisecond)
	}

	t.Fatalf("%s never listed %d segments", url, n)

	return nil
}

func TestPublishShapes(t *testing.T) {
	cases := []struct {
		name      string
		args      []string
		wantVideo bool
		wantAudio bool
	}{
		{"audio only", append(lavfi(false, true, 6), "-c:a", "aac"), false, true},
		{"video only", append(lavfi(true, false, 6), "-c:v", "libx264"), true, false},
		{"b-frames", append(lavfi(true, true, 6), "-c:v", "libx264", "-bf", "3", "-g", "50",
			"-c:a", "aac"), true, true},
		{"mono 22050 Hz", append(lavfi(true, true, 6), "-c:v", "libx264", "-c:a", "aac",
			"-ac", "1", "-ar", "22050"), true, true},
	}

	n := startNode(t)

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			li := n.createInput(t)
			pub := startFFmpeg(t, append(tc.args, "-f", "flv", n.rtmp+li.RTMP.StreamKey)...)
			n.waitState(t, li.UID, "connected")

			master := n.base + "/" + li.UID + "/manifest/video.m3u8"
			mv := waitVariants(t, master, 1, 1)
			p := ffprobe(t, master)

			var video, audio bool
			for _, s := range p.Streams {
				video = video || (s.CodecType == "video" && s.CodecName == "h264")
				audio = audio || (s.CodecType == "audio" && s.CodecName == "aac")
			}

			if video != tc.wantVideo || audio != tc.wantAudio {
				t.Fatalf("ffprobe: video %v audio %v, want %v %v", video, audio, tc.wantVideo,
					tc.wantAudio)
			}

			decodes(t, resolve(master, mv.variants[0].uri))

			if err := pub.wait(t); err != nil {
				t.Fatalf("publisher: %v\n%s", err, pub.out.String())
			}

			n.waitState(t, li.UID, "client_disconnect")
		})
	}
}

// TestTranscoderBehindCutsPublisher gives the transcoder a queue far too short
// for a publisher sending faster than real time: the hub drops the
// transcoder, and the publisher is cut off with the reason in the API rather
// than left streaming into an ended playlist.
func TestTranscoderBehindCutsPublisher(t *testing.T) {
	n := startNode(t)
	n.inputs.queue = 4
	li := n.createInput(t)

	pub := startFFmpeg(t, "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30:duration=60",
		"-c:v", "libx264", "-preset", "ultrafast", "-f", "flv", n.rtmp+li.RTMP.StreamKey)

	n.waitState(t, li.UID, "client_disconnect")

	if err := pub.wait(t); err == nil {
		t.Fatal("publisher finished normally; want it cut off")
	}

	got := n.input(t, li.UID)
	if !strings.Contains(got.Status.Current.Reason, "fell behind") {
		t.Fatalf("status reason %q, want it to say transcoding fell behind", got.Status.Current.Reason)
	}
}
