package main

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onair/onair/internal/samples"
)

// startEdge runs `onair edge` in process on a loopback port in front of
// origin and returns its base URL.
func startEdge(t *testing.T, origin string) string {
	t.Helper()

	cfg, err := loadEdgeConfig([]string{"--origin", origin, "--http", "127.0.0.1:0"},
		func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}

	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	n := &edgeNode{cfg: cfg, log: log.With("component", "edge")}

	if err := n.Start(); err != nil {
		t.Fatal(err)
	}

	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()

		n.Shutdown(ctx)
	})

	return "http://" + n.ln.Addr().String()
}

var (
	smallOnce sync.Once
	smallPath string
	smallErr  error
)

// smallClip returns the 768x432 12.5 fps sample clip, whose ladder is two
// cheap rungs (432p and 360p), or a 30 s testsrc2 + sine clip of the same
// shape made with ffmpeg when ../shared/media is missing (TestMain removes
// it).
func smallClip(t *testing.T) string {
	t.Helper()

	shared := samples.Path("car-detection-432p.mp4")
	if _, err := os.Stat(shared); err == nil {
		return shared
	}

	smallOnce.Do(func() {
		dir, err := os.MkdirTemp("", "onair-clip")
		if err != nil {
			smallErr = err
			return
		}

		smallPath = filepath.Join(dir, "testsrc-432p12.5-30s.mp4")
		out, err := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error",
			"-f", "lavfi", "-i", "testsrc2=size=768x432:rate=25/2:duration=30",
			"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=30",
			"-c:v", "libx264", "-preset", "veryfast", "-g", "25", "-c:a", "aac", "-ac", "2",
			"-shortest", smallPath).CombinedOutput()
		if err != nil {
			smallErr = fmt.Errorf("make clip: %v: %s", err, out)
		}
	})

	if smallErr != nil {
		t.Fatal(smallErr)
	}

	return smallPath
}

// e2eMPD is the part of an MPD the end-to-end tests read.
type e2eMPD struct {
	Type      string `xml:"type,attr"`
	UTCTiming struct {
		Value string `xml:"value,attr"`
	} `xml:"UTCTiming"`
	Sets []struct {
		ContentType string `xml:"contentType,attr"`
		Reps        []struct {
			ID     string `xml:"id,attr"`
			Codecs string `xml:"codecs,attr"`
			Height int    `xml:"height,attr"`
		} `xml:"Representation"`
	} `xml:"Period>AdaptationSet"`
}

func getMPD(t *testing.T, u string) *e2eMPD {
	t.Helper()

	code, hdr, body := httpGet(t, u)
	if code != 200 || hdr.Get("Content-Type") != "application/dash+xml" {
		t.Fatalf("%s: status %d, type %q: %s", u, code, hdr.Get("Content-Type"), body)
	}

	var m e2eMPD
	if err := xml.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("%s: %v", u, err)
	}

	return &m
}

// TestRTMPToLowLatencyAndDASHThroughEdge publishes over RTMP to onair serve
// and reads the broadcast through onair edge: the LL-HLS playlists with
// their parts and blocking reloads, and the DASH MPD; ffprobe reads both.
func TestRTMPToLowLatencyAndDASHThroughEdge(t *testing.T) {
	n := startNode(t)
	edge := startEdge(t, n.base)
	li := n.createInput(t)

	pub := startFFmpeg(t, "-re", "-t", "16", "-i", smallClip(t), "-c", "copy", "-f", "flv",
		n.rtmp+li.RTMP.StreamKey)
	n.waitState(t, li.UID, "connected")

	base := edge + "/" + li.UID + "/manifest/"
	master := base + "video.m3u8?protocol=llhls"
	mv := waitVariants(t, master, 2, 2)

	for _, v := range mv.variants {
		if !strings.HasSuffix(v.uri, "/llhls.m3u8") {
			t.Errorf("LL-HLS variant %s is not an llhls.m3u8", v.uri)
		}
	}

	checkLowLatencyThroughEdge(t, base+mv.variants[0].uri)

	prog := ffprobe(t, master)
	if len(prog.Programs) != 2 {
		t.Errorf("ffprobe found %d programs in the LL-HLS playlist, want 2", len(prog.Programs))
	}

	checkStreams(t, "LL-HLS", prog.Streams, 432, 360)

	m := getMPD(t, base+"video.mpd")
	if m.Type != "dynamic" || len(m.Sets) != 2 {
		t.Fatalf("live MPD through the edge: type %q, %d adaptation sets", m.Type, len(m.Sets))
	}

	clock, _ := url.Parse(base + "video.mpd")
	ref, _ := url.Parse(m.UTCTiming.Value)

	if code, _, body := httpGet(t, clock.ResolveReference(ref).String()); code != 200 ||
		!strings.HasPrefix(body, strconv.Itoa(time.Now().UTC().Year())) {
		t.Errorf("UTCTiming %q through the edge: status %d, %q", m.UTCTiming.Value, code, body)
	}

	checkStreams(t, "DASH", ffprobe(t, base+"video.mpd").Streams, 432, 360)

	if err := pub.wait(t); err != nil {
		t.Fatalf("publisher: %v\n%s", err, pub.out.String())
	}

	// Once the broadcast ends the MPD turns static, through the edge too,
	// within the fraction of a segment it caches the MPD for.
	deadline := time.Now().Add(30 * time.Second)
	for getMPD(t, base+"video.mpd").Type != "static" {
		if time.Now().After(deadline) {
			t.Fatal("MPD through the edge still dynamic 30 s after the broadcast ended")
		}

		time.Sleep(200 * time.Millisecond)
	}
}

// checkLowLatencyThroughEdge reads an LL-HLS media playlist through the
// edge and makes a blocking reload for its preload hint.
func checkLowLatencyThroughEdge(t *testing.T, playlistURL string) {
	t.Helper()

	_, _, body := httpGet(t, playlistURL)

	var hint string

	for _, tag := range []string{"#EXT-X-PART-INF:PART-TARGET=", "#EXT-X-SERVER-CONTROL:" +
		"CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=", "#EXT-X-PART:", "#EXT-X-PRELOAD-HINT:TYPE=PART",
		"#EXT-X-RENDITION-REPORT:"} {
		i := strings.Index(body, tag)
		if i < 0 {
			t.Fatalf("%s lacks %s:\n%s", playlistURL, tag, body)
		}

		if tag == "#EXT-X-PRELOAD-HINT:TYPE=PART" {
			hint = strings.SplitN(body[i:], `"`, 3)[1]
		}
	}

	var msn, part int
	if _, err := fmt.Sscanf(hint[strings.LastIndexByte(hint, '/')+1:], "part_%d_%d.m4s", &msn,
		&part); err != nil {
		t.Fatalf("preload hint %q: %v", hint, err)
	}

	reload := fmt.Sprintf("%s?_HLS_msn=%d&_HLS_part=%d", playlistURL, msn, part)

	code, hdr, body := httpGet(t, reload)
	if code != 200 || !strings.Contains(body, hint) {
		t.Fatalf("blocking reload through the edge: status %d (X-Cache %s), hinted part "+
			"listed: %v\n%s", code, hdr.Get("X-Cache"), strings.Contains(body, hint), body)
	}

	// The part itself through the edge.
	if code, _, seg := httpGet(t, resolve(playlistURL, hint)); code != 200 ||
		!strings.Contains(seg, "moof") {
		t.Errorf("hinted part %s through the edge: status %d", hint, code)
	}
}

// checkStreams checks that ffprobe found H.264 at each of heights and AAC.
func checkStreams(t *testing.T, what string, streams []probeStream, heights ...int) {
	t.Helper()

	got := map[string]bool{}
	for _, s := range streams {
		got[s.CodecName+strconv.Itoa(s.Height)] = true
	}

	for _, h := range heights {
		if !got["h264"+strconv.Itoa(h)] {
			t.Errorf("%s: ffprobe found no %dp H.264 in %+v", what, h, streams)
		}
	}

	if !got["aac0"] {
		t.Errorf("%s: ffprobe found no AAC in %+v", what, streams)
	}
}
