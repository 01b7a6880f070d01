package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// variant is one EXT-X-STREAM-INF of a multivariant playlist.
type variant struct {
	attrs map[string]string
	uri   string
}

// playlist is the part of an HLS playlist the tests check.
type playlist struct {
	tags     []string // every line starting with #EXT
	variants []variant
	extinf   []float64
	uris     []string
	ended    bool
	target   int
}

func parsePlaylist(t *testing.T, body string) *playlist {
	t.Helper()

	p := &playlist{}
	var pending map[string]string

	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())

		switch {
		case line == "":
		case strings.HasPrefix(line, "#EXT-X-STREAM-INF:"):
			pending = parseAttrs(strings.TrimPrefix(line, "#EXT-X-STREAM-INF:"))
		case strings.HasPrefix(line, "#EXTINF:"):
			v := strings.TrimSuffix(strings.SplitN(strings.TrimPrefix(line, "#EXTINF:"), ",", 2)[0], ",")
			d, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("bad EXTINF %q", line)
			}

			p.extinf = append(p.extinf, d)
		case strings.HasPrefix(line, "#EXT-X-TARGETDURATION:"):
			p.target, _ = strconv.Atoi(strings.TrimPrefix(line, "#EXT-X-TARGETDURATION:"))
		case line == "#EXT-X-ENDLIST":
			p.ended = true
		case strings.HasPrefix(line, "#"):
		default:
			if pending != nil {
				p.variants = append(p.variants, variant{attrs: pending, uri: line})
				pending = nil
			} else {
				p.uris = append(p.uris, line)
			}
		}

		if strings.HasPrefix(line, "#EXT") {
			p.tags = append(p.tags, line)
		}
	}

	return p
}

// parseAttrs splits an HLS attribute list, keeping quoted commas.
func parseAttrs(s string) map[string]string {
	attrs := map[string]string{}
	for s != "" {
		eq := strings.IndexByte(s, '=')
		if eq < 0 {
			break
		}

		key, rest := s[:eq], s[eq+1:]
		var val string

		if strings.HasPrefix(rest, `"`) {
			end := strings.IndexByte(rest[1:], '"') + 1
			val, rest = rest[1:end], rest[end+1:]
		} else if comma := strings.IndexByte(rest, ','); comma >= 0 {
			val, rest = rest[:comma], rest[comma:]
		} else {
			val, rest = rest, ""
		}

		attrs[key] = val
		s = strings.TrimPrefix(rest, ",")
	}

	return attrs
}

func httpGet(t *testing.T, url string) (int, http.Header, string) {
	t.Helper()

	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()

	b, _ := io.ReadAll(resp.Body)

	return resp.StatusCode, resp.Header, string(b)
}

// waitPlaylist polls url until it parses with at least segments media
// segments in every variant (or in itself, for a media playlist).
func waitVariants(t *testing.T, url string, want, segments int) *playlist {
	t.Helper()

	deadline := time.Now().Add(45 * time.Second)
	for time.Now().Before(deadline) {
		code, _, body := httpGet(t, url)
		if code == 200 {
			p := parsePlaylist(t, body)
			if len(p.variants) == want && allHaveSegments(t, url, p, segments) {
				return p
			}
		}

		time.Sleep(250 * time.Millisecond)
	}

	_, _, body := httpGet(t, url)
	t.Fatalf("%s never listed %d variants with %d segments each:\n%s", url, want, segments, body)

	return nil
}

func allHaveSegments(t *testing.T, base string, p *playlist, n int) bool {
	for _, v := range p.variants {
		code, _, body := httpGet(t, resolve(base, v.uri))
		if code != 200 || len(parsePlaylist(t, body).extinf) < n {
			return false
		}
	}

	return true
}

// resolve resolves a playlist URI against the playlist's URL.
func resolve(base, uri string) string {
	if strings.Contains(uri, "://") {
		return uri
	}

	return base[:strings.LastIndexByte(base, '/')+1] + uri
}

// probe is ffprobe's JSON for the fields the tests check.
type probe struct {
	Programs []struct {
		Streams []probeStream `json:"streams"`
	} `json:"programs"`
	Streams []probeStream `json:"streams"`
}

type probeStream struct {
	CodecType string `json:"codec_type"`
	CodecName string `json:"codec_name"`
	Profile   string `json:"profile"`
	Width     int    `json:"width"`
	Height    int    `json:"height"`
}

func ffprobe(t *testing.T, url string) *probe {
	t.Helper()

	out, err := exec.Command("ffprobe", "-v", "error", "-show_programs", "-show_streams",
		"-of", "json", url).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", url, err)
	}

	var p probe
	if err := json.Unmarshal(out, &p); err != nil {
		t.Fatalf("ffprobe %s: %v", url, err)
	}

	return &p
}

// decodes reports whether ffmpeg decodes every stream of url without error.
func decodes(t *testing.T, url string) {
	t.Helper()

	out, err := exec.Command("ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-xerror",
		"-i", url, "-map", "0", "-f", "null", "-").CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg could not decode %s: %v\n%s", url, err, out)
	}
}

func TestRTMPToHLS(t *testing.T) {
	n := startNode(t)
	li := n.createInput(t)

	if li.state() != "" {
		t.Fatalf("new input has status %q, want null", li.state())
	}

	pub := startFFmpeg(t, "-re", "-i", sampleClip(t), "-c", "copy", "-f", "flv",
		n.rtmp+li.RTMP.StreamKey)
	n.waitState(t, li.UID, "connected")

	master := n.base + "/" + li.UID + "/manifest/video.m3u8"
	mv := waitVariants(t, master, 3, 2)

	checkTranscodeInfo(t, n, li.UID)

	// The player starts two segments behind the live edge, as players do, so
	// that the next segment is there when it has played one.
	waitVariants(t, master, 3, 3)
	player := startPlayer(t, master)

	checkMultivariant(t, mv)
	checkProbe(t, master, mv)

	if err := pub.wait(t); err != nil {
		t.Fatalf("publisher: %v\n%s", err, pub.out.String())
	}

	n.waitState(t, li.UID, "client_disconnect")

	// A player that joined live got seconds of pictures and sound, in order.
	if video, audio, faults := player.counts(); video < 4*24 || audio < 4*43 || faults > 0 {
		t.Errorf("hls player got %d pictures and %d audio frames (%d out of order), "+
			"want over 4 s of each in order", video, audio, faults)
	}

	code, hdr, body := httpGet(t, master)
	if code != 200 || hdr.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("multivariant after end: status %d, CORS %q", code,
			hdr.Get("Access-Control-Allow-Origin"))
	}

	checkAlignedEnd(t, master, parsePlaylist(t, body))
}

// checkMultivariant checks the variants of a 720p source's ladder.
func checkMultivariant(t *testing.T, mv *playlist) {
	t.Helper()

	for _, tag := range []string{"#EXT-X-INDEPENDENT-SEGMENTS"} {
		if !slices.Contains(mv.tags, tag) {
			t.Errorf("multivariant playlist lacks %s", tag)
		}
	}

	var heights []int
	for _, v := range mv.variants {
		for _, a := range []string{"BANDWIDTH", "AVERAGE-BANDWIDTH", "RESOLUTION", "FRAME-RATE",
			"CODECS", "AUDIO"} {
			if v.attrs[a] == "" {
				t.Errorf("variant %s lacks %s", v.uri, a)
			}
		}

		var w, h int
		fmt.Sscanf(v.attrs["RESOLUTION"], "%dx%d", &w, &h)
		heights = append(heights, h)

		if !strings.Contains(v.attrs["CODECS"], "avc1.") ||
			!strings.Contains(v.attrs["CODECS"], "mp4a.40.2") {
			t.Errorf("variant %s CODECS %q, want avc1 and mp4a.40.2", v.uri, v.attrs["CODECS"])
		}

		if fr, _ := strconv.ParseFloat(v.attrs["FRAME-RATE"], 64); math.Abs(fr-24) > 0.01 {
			t.Errorf("variant %s FRAME-RATE %q, want 24", v.uri, v.attrs["FRAME-RATE"])
		}
	}

	slices.Sort(heights)
	if !slices.Equal(heights, []int{360, 480, 720}) {
		t.Errorf("rung heights %v, want [360 480 720]", heights)
	}
}

// checkProbe has ffprobe read the multivariant playlist: every variant must
// carry H.264 at its declared resolution and AAC, and decode.
func checkProbe(t *testing.T, master string, mv *playlist) {
	t.Helper()

	p := ffprobe(t, master)
	if len(p.Programs) != len(mv.variants) {
		t.Fatalf("ffprobe found %d programs, want %d variants", len(p.Programs), len(mv.variants))
	}

	declared := map[string]bool{}
	for _, v := range mv.variants {
		declared[v.attrs["RESOLUTION"]] = true
	}

	for i, prog := range p.Programs {
		var video, audio int
		for _, s := range prog.Streams {
			switch {
			case s.CodecType == "video" && s.CodecName == "h264":
				if !declared[fmt.Sprintf("%dx%d", s.Width, s.Height)] {
					t.Errorf("program %d: %dx%d is not a declared RESOLUTION", i, s.Width, s.Height)
				}

				video++
			case s.CodecType == "audio" && s.CodecName == "aac":
				audio++
			}
		}

		if video != 1 || audio < 1 {
			t.Errorf("program %d: %d h264 and %d aac streams, want 1 and at least 1", i, video, audio)
		}
	}

	for _, v := range mv.variants {
		decodes(t, resolve(master, v.uri))
	}
}

// checkAlignedEnd checks the ended playlists: every rung lists the same
// segment durations, ends with EXT-X-ENDLIST, and keeps TARGETDURATION at or
// above every rounded EXTINF.
func checkAlignedEnd(t *testing.T, master string, mv *playlist) {
	t.Helper()

	var first []float64
	for i, v := range mv.variants {
		_, _, body := httpGet(t, resolve(master, v.uri))
		p := parsePlaylist(t, body)

		if !p.ended {
			t.Errorf("variant %s has no EXT-X-ENDLIST after the publisher left", v.uri)
		}

		for _, d := range p.extinf {
			if int(math.Round(d)) > p.target {
				t.Errorf("variant %s: EXTINF %.3f above TARGETDURATION %d", v.uri, d, p.target)
			}
		}

		for _, uri := range p.uris {
			if code, _, _ := httpGet(t, resolve(resolve(master, v.uri), uri)); code != 200 {
				t.Errorf("listed segment %s answers %d", uri, code)
			}
		}

		if i == 0 {
			first = p.extinf
			continue
		}

		if len(p.extinf) != len(first) {
			t.Errorf("variant %s lists %d segments, the first lists %d", v.uri, len(p.extinf), len(first))
			continue
		}

		for j := range first {
			if math.Abs(p.extinf[j]-first[j]) > 0.001 {
				t.Errorf("variant %s segment %d lasts %.5f, the first rung's %.5f", v.uri, j,
					p.extinf[j], first[j])
			}
		}
	}
}

// TestShutdownEndsBroadcasts stops the node while a publisher is live: the
// broadcast's playlists end cleanly and the stop takes well under 10 s.
func TestShutdownEndsBroadcasts(t *testing.T) {
	n := startNode(t)
	li := n.createInput(t)

	startFFmpeg(t, append(lavfi(true, true, 30), "-c:v", "libx264", "-preset", "ultrafast",
		"-c:a", "aac", "-f", "flv", n.rtmp+li.RTMP.StreamKey)...)

	master := n.base + "/" + li.UID + "/manifest/video.m3u8"
	waitVariants(t, master, 1, 1)

	pres, ok := n.inputs.Presentation(li.UID)
	if !ok {
		t.Fatal("no presentation for a live input")
	}

	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()

	start := time.Now()
	if err := n.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown with a live publisher: %v", err)
	}

	t.Logf("shutdown with a live publisher took %v", time.Since(start))

	if !pres.Ended() {
		t.Fatal("presentation not ended by shutdown")
	}

	for _, name := range []string{"360p", "audio"} {
		pl, err := pres.MediaPlaylist(name)
		if err != nil || !strings.Contains(string(pl), "#EXT-X-ENDLIST") {
			t.Errorf("%s playlist after shutdown has no EXT-X-ENDLIST (%v):\n%s", name, err, pl)
		}
	}
}

// checkTranscodeInfo checks that a live input's GET shows its encoder and
// rungs while it is live.
func checkTranscodeInfo(t *testing.T, n *testNode, uid string) {
	t.Helper()

	var got struct {
		Transcode *struct {
			Encoder string `json:"encoder"`
			Rungs   []struct {
				Name   string `json:"name"`
				Active bool   `json:"active"`
				Preset string `json:"preset"`
			} `json:"rungs"`
		} `json:"transcode"`
	}

	n.call(t, "GET", "/stream/live_inputs/"+uid, nil, &got)

	if got.Transcode == nil || got.Transcode.Encoder != "libx264" || len(got.Transcode.Rungs) != 3 {
		t.Fatalf("live input GET while live: transcode %+v, want libx264 with 3 rungs", got.Transcode)
	}

	for _, r := range got.Transcode.Rungs {
		if r.Name == "" || r.Preset == "" {
			t.Errorf("rung %+v lacks a name or preset", r)
		}
	}
}
