package main

import (
	"strings"
	"testing"
)

// TestRotateKeysCutsPublisher publishes over RTMP and over SRT, rotates the
// input's keys through the API, and wants the publisher cut off with the
// reason, keysRotatedAt set, and the old credentials refused.
func TestRotateKeysCutsPublisher(t *testing.T) {
	n := startIngestNode(t)

	source := func(seconds int) []string {
		return []string{"-re", "-f", "lavfi", "-i",
			"testsrc2=size=320x240:rate=25:duration=" + itoa(seconds),
			"-c:v", "libx264", "-preset", "ultrafast", "-g", "25"}
	}

	cases := []struct {
		name    string
		publish func(c *credentials) []string
	}{
		{"rtmp", func(c *credentials) []string {
			return []string{"-f", "flv", n.rtmp + c.RTMPS.StreamKey}
		}},
		{"srt", func(c *credentials) []string {
			return []string{"-f", "mpegts", "-srt_streamid", c.SRT.StreamID,
				c.SRT.caller(c.SRT.Passphrase)}
		}},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := n.credentials(t)
			pub := startFFmpeg(t, append(source(60), tc.publish(c)...)...)
			n.waitState(t, c.UID, "connected")

			var rotated struct {
				KeysRotatedAt *string `json:"keysRotatedAt"`
			}

			if code := n.call(t, "POST", "/stream/live_inputs/"+c.UID+"/rotate_keys", nil,
				&rotated); code != 200 || rotated.KeysRotatedAt == nil {
				t.Fatalf("rotate_keys: status %d, keysRotatedAt %v", code, rotated.KeysRotatedAt)
			}

			if err := pub.wait(t); err == nil {
				t.Fatal("publisher finished normally; want it cut off")
			}

			n.waitState(t, c.UID, "client_disconnect")

			if r := n.input(t, c.UID).Status.Current.Reason; !strings.Contains(r, "rotated") {
				t.Errorf("status reason %q, want it to say the keys were rotated", r)
			}

			again := startFFmpeg(t, append(source(3), tc.publish(c)...)...)
			if err := again.wait(t); err == nil {
				t.Fatal("old credentials still publish")
			}
		})
	}
}
