package main

import (
	"image/jpeg"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// videoResult is the part of the API's video the tests read.
type videoResult struct {
	UID       string         `json:"uid"`
	LiveInput string         `json:"liveInput"`
	Creator   *string        `json:"creator"`
	Meta      map[string]any `json:"meta"`
	Duration  float64        `json:"duration"`
	Size      int64          `json:"size"`
	Created   time.Time      `json:"created"`
	Input     struct {
		Width  int `json:"width"`
		Height int `json:"height"`
	} `json:"input"`
	Playback struct {
		HLS  string `json:"hls"`
		DASH string `json:"dash"`
	} `json:"playback"`
	Thumbnail         string     `json:"thumbnail"`
	ScheduledDeletion *time.Time `json:"scheduledDeletion"`
	Status            struct {
		State           string `json:"state"`
		ErrorReasonCode string `json:"errorReasonCode"`
	} `json:"status"`
}

// videos lists the videos of an input.
func (n *testNode) videos(t *testing.T, input string) []videoResult {
	t.Helper()

	var list []videoResult
	if code := n.call(t, "GET", "/stream/live_inputs/"+input+"/videos", nil, &list); code != 200 {
		t.Fatalf("list videos of %s: status %d", input, code)
	}

	return list
}

// waitVideos polls the input's videos until cond holds for them.
func (n *testNode) waitVideos(t *testing.T, input, what string,
	cond func([]videoResult) bool) []videoResult {
	t.Helper()

	deadline := time.Now().Add(45 * time.Second)
	for time.Now().Before(deadline) {
		if list := n.videos(t, input); cond(list) {
			return list
		}

		time.Sleep(50 * time.Millisecond)
	}

	t.Fatalf("input %s: videos never %s: %+v", input, what, n.videos(t, input))

	return nil
}

func states(want ...string) func([]videoResult) bool {
	return func(list []videoResult) bool {
		if len(list) != len(want) {
			return false
		}

		for i := range list {
			if list[i].Status.State != want[i] {
				return false
			}
		}

		return true
	}
}

// playedSeconds has ffmpeg decode url whole, failing t on an error, and
// returns the duration ffprobe reads.
func playedSeconds(t *testing.T, url string) float64 {
	t.Helper()

	decodes(t, url)

	out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "format=duration",
		"-of", "default=nw=1:nk=1", url).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", url, err)
	}

	d, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	if err != nil {
		t.Fatalf("ffprobe duration of %s: %q", url, out)
	}

	return d
}

// TestRecordingReadyAfterBroadcast publishes a broadcast with ffmpeg and
// plays its video: live while it lasts, then as VOD with every segment,
// ready moments after the publisher left, with the input's creator, meta
// and retention.
func TestRecordingReadyAfterBroadcast(t *testing.T) {
	const seconds = 8

	n := startNode(t)
	li := n.createInput(t)

	settings := map[string]any{"defaultCreator": "alice", "deleteRecordingAfterDays": 30,
		"meta": map[string]any{"name": "studio"}}
	if code := n.call(t, "PUT", "/stream/live_inputs/"+li.UID, settings, nil); code != 200 {
		t.Fatalf("PUT settings: %d", code)
	}

	pub := startFFmpeg(t, append(lavfi(true, true, seconds), "-c:v", "libx264", "-preset",
		"ultrafast", "-g", "50", "-c:a", "aac", "-f", "flv", n.rtmp+li.RTMP.StreamKey)...)

	live := n.waitVideos(t, li.UID, "live", states("live-inprogress"))[0]
	waitVariants(t, n.base+"/"+live.UID+"/manifest/video.m3u8", 1, 1)

	if code, _, _ := httpGet(t, n.base+"/"+live.UID+"/downloads/default.mp4"); code != 404 {
		t.Errorf("download of a video being recorded: %d, want 404", code)
	}

	checkThumbnails(t, n.base+"/"+li.UID)
	checkLifecycle(t, n.base+"/"+li.UID, `{"isInput":true,"videoUID":"`+live.UID+`","live":true}`)
	checkLifecycle(t, n.base+"/"+live.UID, `{"isInput":false,"videoUID":"`+live.UID+`","live":true}`)

	served := collectLive(t, n.base+"/"+live.UID+"/manifest/360p/index.m3u8", pub)

	left := time.Now()
	v := n.waitVideos(t, li.UID, "ready", states("ready"))[0]
	t.Logf("video ready %v after the publisher left", time.Since(left))

	checkSameBytes(t, n.base+"/"+v.UID+"/manifest/360p/index.m3u8", served)

	if v.UID != live.UID || v.LiveInput != li.UID || v.Creator == nil || *v.Creator != "alice" ||
		v.Meta["name"] != "studio" {
		t.Errorf("video %+v: want uid %s, input %s, creator alice, meta name studio",
			v, live.UID, li.UID)
	}

	if math.Abs(v.Duration-seconds) > 2 || v.Input.Width != 640 || v.Input.Height != 360 ||
		v.Size <= 0 {
		t.Errorf("video duration %.3f, input %dx%d, size %d: want %d s, 640x360, bytes",
			v.Duration, v.Input.Width, v.Input.Height, v.Size, seconds)
	}

	if d := v.ScheduledDeletion; d == nil || d.Sub(v.Created) < 30*24*time.Hour-time.Minute ||
		d.Sub(v.Created) > 30*24*time.Hour+time.Minute {
		t.Errorf("scheduledDeletion %v, want 30 days after %v", d, v.Created)
	}

	hls := n.base + "/" + v.UID + "/manifest/video.m3u8"
	if !strings.HasSuffix(v.Playback.HLS, "/"+v.UID+"/manifest/video.m3u8") ||
		!strings.HasSuffix(v.Playback.DASH, "/"+v.UID+"/manifest/video.mpd") {
		t.Errorf("playback %+v", v.Playback)
	}

	checkRecordedPlaylists(t, hls, seconds)

	for _, url := range []string{hls, n.base + "/" + v.UID + "/manifest/video.mpd"} {
		if d := playedSeconds(t, url); math.Abs(d-seconds) > 2 {
			t.Errorf("%s plays %.3f s of a %d s broadcast", url, d, seconds)
		}
	}

	checkDownload(t, n.base+"/"+v.UID+"/downloads/default.mp4", seconds)
	checkThumbnails(t, n.base+"/"+v.UID)
	checkLifecycle(t, n.base+"/"+v.UID, `{"isInput":false,"videoUID":"`+v.UID+`","live":false}`)
	checkVideoAPI(t, n, li.UID, v.UID)
}

// checkDownload checks a video's MP4 download: moov first, the top rung and
// the audio, the whole broadcast, and Range requests.
func checkDownload(t *testing.T, url string, seconds int) {
	t.Helper()

	code, hdr, body := httpGet(t, url)
	if code != 200 || hdr.Get("Content-Type") != "video/mp4" {
		t.Fatalf("download: %d %q", code, hdr.Get("Content-Type"))
	}

	if moov, mdat := strings.Index(body, "moov"), strings.Index(body, "mdat"); moov < 0 ||
		moov > mdat {
		t.Errorf("download: moov at %d, mdat at %d, want moov first", moov, mdat)
	}

	p := ffprobe(t, url)
	if len(p.Streams) != 2 || p.Streams[0].CodecName != "h264" || p.Streams[0].Width != 640 ||
		p.Streams[1].CodecName != "aac" {
		t.Errorf("download streams %+v, want h264 640x360 and aac", p.Streams)
	}

	if d := playedSeconds(t, url); math.Abs(d-float64(seconds)) > 2 {
		t.Errorf("download plays %.3f s of a %d s broadcast", d, seconds)
	}

	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Range", "bytes=0-99")

	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	if resp.StatusCode != 206 || resp.ContentLength != 100 {
		t.Errorf("download range: %d, %d bytes", resp.StatusCode, resp.ContentLength)
	}
}

// checkRecordedPlaylists checks that every variant of a recording lists the
// whole broadcast from its first segment and ends.
func checkRecordedPlaylists(t *testing.T, master string, seconds int) {
	t.Helper()

	code, _, body := httpGet(t, master)
	if code != 200 {
		t.Fatalf("%s: %d", master, code)
	}

	mv := parsePlaylist(t, body)
	if len(mv.variants) == 0 {
		t.Fatalf("recording lists no variant:\n%s", body)
	}

	for _, v := range mv.variants {
		_, _, body := httpGet(t, resolve(master, v.uri))
		p := parsePlaylist(t, body)

		var total float64
		for _, d := range p.extinf {
			total += d
		}

		if !p.ended || !strings.Contains(body, "#EXT-X-MEDIA-SEQUENCE:0\n") ||
			math.Abs(total-float64(seconds)) > 2 {
			t.Errorf("recorded variant %s: ended %v, %.3f s listed, want from segment 0 "+
				"to the end of %d s:\n%s", v.uri, p.ended, total, seconds, body)
		}
	}
}

// checkVideoAPI lists, deletes and checks a ready video: it outlives its
// input, and its DELETE removes its files and playback.
func checkVideoAPI(t *testing.T, n *testNode, input, uid string) {
	t.Helper()

	var list []videoResult
	if n.call(t, "GET", "/stream?type=vod&creator=alice", nil, &list); len(list) != 1 {
		t.Errorf("GET /stream?type=vod&creator=alice lists %d videos, want 1", len(list))
	}

	if n.call(t, "GET", "/stream?type=live", nil, &list); len(list) != 0 {
		t.Errorf("GET /stream?type=live lists %d videos after the broadcast", len(list))
	}

	if code := n.call(t, "GET", "/stream?start=yesterday", nil, nil); code != 400 {
		t.Errorf("GET /stream?start=yesterday: %d, want 400", code)
	}

	if code := n.call(t, "DELETE", "/stream/live_inputs/"+input, nil, nil); code != 200 {
		t.Fatalf("DELETE input: %d", code)
	}

	hls := n.base + "/" + uid + "/manifest/video.m3u8"
	if code := n.call(t, "GET", "/stream/"+uid, nil, nil); code != 200 {
		t.Errorf("video after its input was deleted: GET %d", code)
	}

	checkVideoEdit(t, n, uid)

	if code, _, _ := httpGet(t, hls); code != 200 {
		t.Errorf("video after its input was deleted: playback %d", code)
	}

	if code := n.call(t, "DELETE", "/stream/"+uid, nil, nil); code != 200 {
		t.Fatalf("DELETE video: %d", code)
	}

	if code := n.call(t, "GET", "/stream/"+uid, nil, nil); code != 404 {
		t.Errorf("GET of a deleted video: %d, want 404", code)
	}

	if code, _, _ := httpGet(t, hls); code != 404 {
		t.Errorf("playback of a deleted video: %d, want 404", code)
	}

	if code, _, _ := httpGet(t, n.base+"/"+uid+"/downloads/default.mp4"); code != 404 {
		t.Errorf("download of a deleted video: %d, want 404", code)
	}

	dir := filepath.Join(n.cfg.Data, recordingsDir, uid)
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("files of a deleted video: %v", err)
	}
}

// checkVideoEdit edits a video's details with POST /stream/{uid}: every
// field, the refusals, and the rules taking effect on playback.
func checkVideoEdit(t *testing.T, n *testNode, uid string) {
	t.Helper()

	hls := n.base + "/" + uid + "/manifest/video.m3u8"
	later := time.Now().UTC().Add(40 * 24 * time.Hour).Truncate(time.Second)

	cases := []struct {
		name     string
		body     map[string]any
		code     int
		playback int
	}{
		{"meta and creator", map[string]any{"meta": map[string]any{"name": "edited"},
			"creator": "bob"}, 200, 200},
		{"signed urls", map[string]any{"requireSignedURLs": true}, 200, 401},
		{"public again", map[string]any{"requireSignedURLs": false}, 200, 200},
		{"allowed origins", map[string]any{"allowedOrigins": []string{"*.example.com"}}, 200, 200},
		{"deletion", map[string]any{"scheduledDeletion": later.Format(time.RFC3339)}, 200, 200},
		{"deletion too soon", map[string]any{
			"scheduledDeletion": time.Now().UTC().Add(time.Hour).Format(time.RFC3339)}, 400, 200},
		{"bad origin", map[string]any{"allowedOrigins": []string{"https://x.test/"}}, 400, 200},
		{"unknown field", map[string]any{"uid": "x"}, 400, 200},
	}

	for _, tc := range cases {
		t.Run("edit "+tc.name, func(t *testing.T) {
			if code := n.call(t, "POST", "/stream/"+uid, tc.body, nil); code != tc.code {
				t.Fatalf("POST: status %d, want %d", code, tc.code)
			}

			// Playback rules are cached for up to a second.
			waitStatus(t, hls, nil, tc.playback)
		})
	}

	var v struct {
		videoResult
		RequireSignedURLs bool     `json:"requireSignedURLs"`
		AllowedOrigins    []string `json:"allowedOrigins"`
	}

	n.call(t, "GET", "/stream/"+uid, nil, &v)

	if v.Meta["name"] != "edited" || v.Creator == nil || *v.Creator != "bob" ||
		v.RequireSignedURLs || len(v.AllowedOrigins) != 1 || v.ScheduledDeletion == nil ||
		!v.ScheduledDeletion.Equal(later) {
		t.Errorf("video after the edits: %+v", v)
	}

	if code := n.call(t, "POST", "/stream/"+uid, map[string]any{"scheduledDeletion": nil},
		&v); code != 200 || v.ScheduledDeletion != nil {
		t.Errorf("clearing scheduledDeletion: status %d, %v", code, v.ScheduledDeletion)
	}
}

// checkThumbnails reads stills of a live input or a video: JPEGs of the
// size each query asks, and 400 for bad queries.
func checkThumbnails(t *testing.T, base string) {
	t.Helper()

	tests := []struct {
		query         string
		status        int
		width, height int
	}{
		{"", 200, 640, 360},
		{"?time=3s&width=160&height=160&fit=fill", 200, 160, 160},
		{"?time=1s&width=160&height=160&fit=clip", 200, 160, 90},
		{"?height=90", 200, 160, 90},
		{"?fit=zoom", 400, 0, 0},
		{"?width=0", 400, 0, 0},
		{"?time=-2s", 400, 0, 0},
	}

	for _, tt := range tests {
		code, hdr, body := httpGet(t, base+"/thumbnails/thumbnail.jpg"+tt.query)
		if code != tt.status {
			t.Errorf("thumbnail%s: %d, want %d: %s", tt.query, code, tt.status, body)

			continue
		}

		if code != 200 {
			continue
		}

		cfg, err := jpeg.DecodeConfig(strings.NewReader(body))
		if err != nil || hdr.Get("Content-Type") != "image/jpeg" || cfg.Width != tt.width ||
			cfg.Height != tt.height {
			t.Errorf("thumbnail%s: %dx%d (%v), want a %dx%d JPEG", tt.query, cfg.Width,
				cfg.Height, err, tt.width, tt.height)
		}
	}
}

// checkLifecycle checks the body of /{id}/lifecycle.
func checkLifecycle(t *testing.T, base, want string) {
	t.Helper()

	if code, _, body := httpGet(t, base+"/lifecycle"); code != 200 || body != want {
		t.Errorf("%s/lifecycle: %d %s, want %s", base, code, body, want)
	}
}

// collectLive reads a live media playlist and every segment it lists until
// the publisher exits and the playlist ends, and returns the segments by URI.
func collectLive(t *testing.T, url string, pub *ffmpeg) map[string]string {
	t.Helper()

	served := map[string]string{}
	exited := false

	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); {
		select {
		case err := <-pub.done:
			pub.done <- err
			exited = true

			if err != nil {
				t.Fatalf("publisher: %v\n%s", err, pub.out.String())
			}
		default:
		}

		_, _, body := httpGet(t, url)
		p := parsePlaylist(t, body)

		for _, uri := range p.uris {
			if _, ok := served[uri]; !ok {
				if code, _, data := httpGet(t, resolve(url, uri)); code == 200 {
					served[uri] = data
				}
			}
		}

		if exited && p.ended {
			return served
		}

		time.Sleep(200 * time.Millisecond)
	}

	t.Fatalf("live playlist %s never ended", url)

	return nil
}

// checkSameBytes checks that a recording lists every segment served live,
// under the same URI, with the same bytes, and nothing after the last one.
func checkSameBytes(t *testing.T, url string, served map[string]string) {
	t.Helper()

	_, _, body := httpGet(t, url)
	p := parsePlaylist(t, body)

	listed := map[string]bool{}
	for _, uri := range p.uris {
		listed[uri] = true
	}

	for uri, data := range served {
		code, _, got := httpGet(t, resolve(url, uri))
		if !listed[uri] || code != 200 || got != data {
			t.Errorf("segment %s served live: listed %v, recorded %d bytes (%d), live %d bytes",
				uri, listed[uri], len(got), code, len(data))
		}
	}

	if last := p.uris[len(p.uris)-1]; served[last] == "" {
		t.Errorf("recording ends with %s, which live playback never listed", last)
	}
}
