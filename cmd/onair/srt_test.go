package main

import (
	"context"
	"log/slog"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// ingestNode is a testNode with RTMPS and SRT on as well.
type ingestNode struct {
	*testNode
}

// startIngestNode starts a node with RTMP, RTMPS (self-signed certificate)
// and SRT on loopback ports.
func startIngestNode(t *testing.T) *ingestNode {
	t.Helper()

	cfg := &config{
		Data:      t.TempDir(),
		HTTP:      "127.0.0.1:0",
		RTMP:      "127.0.0.1:0",
		RTMPS:     "127.0.0.1:0",
		SRT:       "127.0.0.1:0",
		PublicURL: "http://127.0.0.1:8080",
		HWAccel:   "none",
		LogLevel:  "debug",
		LogFormat: "text",
	}

	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}

	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	n := &node{cfg: cfg, log: log}

	if err := n.Start(); err != nil {
		t.Fatal(err)
	}

	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()

		if err := n.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})

	return &ingestNode{&testNode{
		node: n,
		base: "http://" + n.httpLn.Addr().String(),
		rtmp: "rtmp://" + n.rtmpLn.Addr().String() + "/live/",
	}}
}

// credentials are the ingest blocks of a live input in the API.
type credentials struct {
	UID   string `json:"uid"`
	RTMPS struct {
		URL       string `json:"url"`
		StreamKey string `json:"streamKey"`
	} `json:"rtmps"`
	RTMPSPlayback struct {
		URL       string `json:"url"`
		StreamKey string `json:"streamKey"`
	} `json:"rtmpsPlayback"`
	SRT         srtBlock `json:"srt"`
	SRTPlayback srtBlock `json:"srtPlayback"`
}

type srtBlock struct {
	URL        string `json:"url"`
	StreamID   string `json:"streamId"`
	Passphrase string `json:"passphrase"`
}

// caller returns the ffmpeg URL of an SRT block with a passphrase.
func (b srtBlock) caller(passphrase string) string {
	u := b.URL + "?mode=caller&transtype=live"
	if passphrase != "" {
		u += "&passphrase=" + passphrase
	}

	return u
}

func (n *ingestNode) credentials(t *testing.T) *credentials {
	t.Helper()

	var c credentials
	if code := n.call(t, "POST", "/stream/live_inputs", map[string]any{}, &c); code != 200 {
		t.Fatalf("create live input: status %d", code)
	}

	if c.SRT.URL == "" || c.RTMPS.URL == "" || !strings.HasPrefix(c.RTMPS.URL, "rtmps://127.0.0.1:") {
		t.Fatalf("api lacks srt or rtmps urls: %+v", c)
	}

	return &c
}

// shortClip cuts the first seconds of the sample clip without re-encoding.
func shortClip(t *testing.T, seconds int) string {
	t.Helper()

	path := filepath.Join(t.TempDir(), "clip.mp4")
	out, err := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-i", sampleClip(t),
		"-t", itoa(seconds), "-c", "copy", path).CombinedOutput()
	if err != nil {
		t.Fatalf("cut clip: %v: %s", err, out)
	}

	return path
}

// publisher starts one way of publishing clip to the input of c.
type publisher func(t *testing.T, clip string, c *credentials) *ffmpeg

func srtFFmpeg(streamID func(*credentials) string) publisher {
	return func(t *testing.T, clip string, c *credentials) *ffmpeg {
		return startFFmpeg(t, "-re", "-i", clip, "-c", "copy", "-f", "mpegts",
			"-srt_streamid", streamID(c), c.SRT.caller(c.SRT.Passphrase))
	}
}

func rtmpsFFmpeg(t *testing.T, clip string, c *credentials) *ffmpeg {
	return startFFmpeg(t, "-re", "-i", clip, "-c", "copy", "-f", "flv", "-tls_verify", "0",
		c.RTMPS.URL+c.RTMPS.StreamKey)
}

// gstSRT publishes with GStreamer's srtsink, muxed by mpegtsmux.
func gstSRT(t *testing.T, clip string, c *credentials) *ffmpeg {
	t.Helper()

	f := &ffmpeg{done: make(chan error, 1)}
	f.cmd = exec.Command("gst-launch-1.0", "-q",
		"filesrc", "location="+clip, "!", "qtdemux", "name=d",
		"d.video_0", "!", "queue", "!", "h264parse", "!", "mpegtsmux", "name=m", "alignment=7",
		"!", "srtsink", "uri="+c.SRT.URL+"?mode=caller", "streamid="+c.SRT.StreamID,
		"passphrase="+c.SRT.Passphrase, "sync=true", "wait-for-connection=false",
		"d.audio_0", "!", "queue", "!", "aacparse", "!", "m.")
	f.cmd.Stdout = &f.out
	f.cmd.Stderr = &f.out

	if err := f.cmd.Start(); err != nil {
		t.Fatal(err)
	}

	go func() { f.done <- f.cmd.Wait() }()

	t.Cleanup(func() {
		f.cmd.Process.Kill()
		<-f.done
	})

	return f
}

func TestSecureIngestToHLS(t *testing.T) {
	cases := []struct {
		name    string
		publish publisher
	}{
		{"srt bare stream id", srtFFmpeg(func(c *credentials) string { return c.SRT.StreamID })},
		{"srt access-control form", srtFFmpeg(func(c *credentials) string {
			return "#!::u=cam1,m=publish,r=" + c.SRT.StreamID
		})},
		{"rtmps", rtmpsFFmpeg},
		{"gstreamer srtsink", gstSRT},
	}

	n := startIngestNode(t)
	clip := shortClip(t, 6)

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := n.credentials(t)
			pub := tc.publish(t, clip, c)
			n.waitState(t, c.UID, "connected")

			master := n.base + "/" + c.UID + "/manifest/video.m3u8"
			mv := waitVariants(t, master, 3, 2)
			checkMultivariant(t, mv)
			checkProbe(t, master, mv)

			if err := pub.wait(t); err != nil {
				t.Fatalf("publisher: %v\n%s", err, pub.out.String())
			}

			n.waitState(t, c.UID, "client_disconnect")

			_, _, body := httpGet(t, master)
			checkAlignedEnd(t, master, parsePlaylist(t, body))
		})
	}
}

func TestSRTRefusals(t *testing.T) {
	n := startIngestNode(t)
	clip := shortClip(t, 2)
	c := n.credentials(t)

	cases := []struct {
		name       string
		streamID   string
		passphrase string
	}{
		{"wrong passphrase", c.SRT.StreamID, "not-the-passphrase-0"},
		{"no passphrase", c.SRT.StreamID, ""},
		{"unknown stream id", "no-such-stream-id", c.SRT.Passphrase},
		{"playback id with the publish passphrase", c.SRTPlayback.StreamID + "-x", c.SRT.Passphrase},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pub := startFFmpeg(t, "-re", "-i", clip, "-c", "copy", "-f", "mpegts",
				"-srt_streamid", tc.streamID, c.SRT.caller(tc.passphrase))

			err := pub.wait(t)
			if err == nil {
				t.Fatalf("ffmpeg was let in: %s", pub.out.String())
			}

			if out := strings.ToLower(pub.out.String()); !strings.Contains(out, "reject") {
				t.Errorf("ffmpeg did not report a rejection: %s", out)
			}

			if st := n.input(t, c.UID).state(); st != "" {
				t.Fatalf("input state %q after a refused publisher, want null", st)
			}
		})
	}
}

func TestPlaybackOverRTMPAndSRT(t *testing.T) {
	n := startIngestNode(t)
	c := n.credentials(t)

	pub := startFFmpeg(t, "-re", "-i", sampleClip(t), "-c", "copy", "-f", "mpegts",
		"-srt_streamid", c.SRT.StreamID, c.SRT.caller(c.SRT.Passphrase))
	n.waitState(t, c.UID, "connected")

	cases := []struct {
		name string
		args []string
	}{
		{"rtmp", []string{n.rtmp + c.RTMPSPlayback.StreamKey}},
		{"rtmps", []string{"-tls_verify", "0", c.RTMPSPlayback.URL + c.RTMPSPlayback.StreamKey}},
		{"srt", []string{"-srt_streamid", c.SRTPlayback.StreamID,
			c.SRTPlayback.caller(c.SRTPlayback.Passphrase)}},
		{"srt request form", []string{"-srt_streamid", "#!::r=" + c.SRTPlayback.StreamID +
			",m=request", c.SRTPlayback.caller(c.SRTPlayback.Passphrase)}},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"-v", "error", "-rw_timeout", "10000000",
				"-show_entries", "stream=codec_name", "-of", "csv=p=0"}, tc.args...)

			out, err := exec.Command("ffprobe", args...).Output()
			if err != nil {
				t.Fatalf("ffprobe: %v: %s", err, out)
			}

			// MPEG-TS lists its streams under their programme as well.
			codecs := strings.Fields(string(out))
			sort.Strings(codecs)
			codecs = slices.Compact(codecs)

			if strings.Join(codecs, ",") != "aac,h264" {
				t.Fatalf("ffprobe found %v, want aac and h264", codecs)
			}
		})
	}

	_ = pub.cmd.Process.Kill()
}
