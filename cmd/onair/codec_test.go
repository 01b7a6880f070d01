package main

import (
	"strings"
	"testing"
)

// TestUnsupportedCodecFailsToConnect publishes codecs onair cannot transcode
// and checks that the input reports failed_to_connect with the codec named.
func TestUnsupportedCodecFailsToConnect(t *testing.T) {
	n := startIngestNode(t)

	cases := []struct {
		name  string
		codec string // what the reason must name
		args  func(c *credentials) []string
	}{
		{"mpeg-2 video over srt", "unsupported video codec mpeg-2 video", func(c *credentials) []string {
			return []string{"-c:v", "mpeg2video", "-c:a", "mp2", "-f", "mpegts",
				"-srt_streamid", c.SRT.StreamID, c.SRT.caller(c.SRT.Passphrase)}
		}},
		{"sorenson h.263 over rtmps", "unsupported video codec sorenson h.263", func(c *credentials) []string {
			return []string{"-c:v", "flv1", "-c:a", "aac", "-f", "flv", "-tls_verify", "0",
				c.RTMPS.URL + c.RTMPS.StreamKey}
		}},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := n.credentials(t)
			args := append([]string{"-re", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25",
				"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "20"},
				tc.args(c)...)
			startFFmpeg(t, args...)

			n.waitState(t, c.UID, "failed_to_connect")

			reason := strings.ToLower(n.input(t, c.UID).Status.Current.Reason)
			if !strings.Contains(reason, tc.codec) {
				t.Errorf("reason %q does not name the codec (%s)", reason, tc.codec)
			}
		})
	}
}
