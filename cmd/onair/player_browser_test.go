package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// hlsSync is how many seconds behind the live edge hls.js plays, still
// loading parts with blocking reloads: the playlists' PART-HOLD-BACK of 1.5 s
// leaves a transcoder on a loaded two-core machine no room, and the test is
// about playing through the edge without a stall; the packager's benchmark
// measures how soon parts are there.
const hlsSync = 4

// warmup is how many seconds the players play before the 20 s are watched:
// hls.js measures its first blocked part loads as a slow network and
// changes rung once or twice in its first seconds, and a change of rung in
// low-latency mode may stall once.
const warmup = 8

// playerTestDir holds the browser test's script and its pinned npm
// packages, which `make test` installs (scripts/deps.sh).
const playerTestDir = "../../web/playertest"

// browserResult is what web/playertest/run.mjs reports for one player.
type browserResult struct {
	Player      string    `json:"player"`
	Started     bool      `json:"started"`
	StartError  string    `json:"startError"`
	StartupMs   int       `json:"startupMs"`
	CrossOrigin bool      `json:"crossOrigin"`
	Samples     []float64 `json:"samples"`
	CleanRun    int       `json:"cleanRun"`
	Stalls      []struct {
		Second      int     `json:"second"`
		CurrentTime float64 `json:"currentTime"`
		Events      int     `json:"events"`
	} `json:"stalls"`
	HeightBeforeCap int      `json:"heightBeforeCap"`
	HeightAfterCap  int      `json:"heightAfterCap"`
	SwitchMs        int      `json:"switchMs"`
	Foreign         []string `json:"foreign"`
	Failed          []string `json:"failed"`
	FailedBeforeCap []string `json:"failedBeforeCap"`
	Latency         float64  `json:"latency"`
	Report          struct {
		Errors   []string `json:"errors"`
		Heights  []int    `json:"heights"`
		Switches [][2]int `json:"switches"` // height, page time in ms
	} `json:"report"`
}

// browserTools returns node and chromium, skipping the test when either or
// the npm packages are missing outside CI, where `make test` installs them.
func browserTools(t *testing.T) (node, chromium string) {
	t.Helper()

	var missing []string

	node, err := exec.LookPath("node")
	if err != nil {
		missing = append(missing, "node")
	}

	chromium = os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}

	if _, err := os.Stat(chromium); err != nil {
		missing = append(missing, chromium+" (Debian package chromium)")
	}

	modules := filepath.Join(playerTestDir, "node_modules", "playwright-core")
	if _, err := os.Stat(modules); err != nil {
		missing = append(missing, "web/playertest/node_modules (npm ci)")
	}

	if len(missing) == 0 {
		return node, chromium
	}

	if os.Getenv("CI") != "" {
		t.Fatalf("browser test needs %v: `make test` installs them", missing)
	}

	t.Skipf("browser test skipped: %v missing; `make test` installs them", missing)

	return "", ""
}

// TestBrowserPlayersThroughEdge plays a live broadcast in headless Chromium
// with hls.js (LL-HLS) and dash.js, both through onair edge, from a page on
// another loopback port: playback starts, currentTime advances for 20 s in a
// row without a stall (within 75 s) and no request fails, and when the page's download rate is
// capped to the lower rung's bandwidth (DevTools
// Network.emulateNetworkConditions) each player's ABR moves to the other
// rung.
func TestBrowserPlayersThroughEdge(t *testing.T) {
	node, chromium := browserTools(t)

	n := startNode(t)
	edge := startEdge(t, n.base)
	li := n.createInput(t)

	startFFmpeg(t, "-re", "-stream_loop", "-1", "-i", smallClip(t), "-c", "copy", "-f", "flv",
		n.rtmp+li.RTMP.StreamKey)
	n.waitState(t, li.UID, "connected")

	base := edge + "/" + li.UID + "/manifest/"
	master := base + "video.m3u8?protocol=llhls"
	mv := waitVariants(t, master, 2, 3)

	capBps := rungCap(t, mv)
	results := runPlayers(t, node, chromium, "--hls", master, "--dash", base+"video.mpd",
		"--play", "20", "--play-max", "75", "--cap-bps", strconv.Itoa(capBps), "--hls-sync", strconv.Itoa(hlsSync),
		"--warmup", strconv.Itoa(warmup))

	for _, name := range []string{"hls", "dash"} {
		r, ok := results[name]
		if !ok {
			t.Errorf("%s: no result", name)

			continue
		}

		checkBrowserResult(t, r)
	}
}

// rungCap returns the lowest variant's peak bandwidth as the download rate
// to cap at: the lower rung fits in it, the upper one does not.
func rungCap(t *testing.T, mv *playlist) int {
	t.Helper()

	var bw []int

	for _, v := range mv.variants {
		b, err := strconv.Atoi(v.attrs["BANDWIDTH"])
		if err != nil {
			t.Fatalf("variant %s BANDWIDTH %q", v.uri, v.attrs["BANDWIDTH"])
		}

		bw = append(bw, b)
	}

	slices.Sort(bw)

	if bw[0] == bw[len(bw)-1] {
		t.Fatalf("variants of equal bandwidth %v: no rung to switch to", bw)
	}

	return bw[0]
}

// runPlayers runs web/playertest/run.mjs and decodes its report.
func runPlayers(t *testing.T, node, chromium string, args ...string) map[string]browserResult {
	t.Helper()

	raw := runPlayerScript(t, node, chromium, args...)
	results := map[string]browserResult{}

	for _, name := range []string{"hls", "dash"} {
		if b, ok := raw[name]; ok {
			var r browserResult
			if err := json.Unmarshal(b, &r); err != nil {
				t.Fatalf("%s result: %v", name, err)
			}

			results[name] = r
		}
	}

	return results
}

// runPlayerScript runs web/playertest/run.mjs and returns its report by
// player. The script and the Chromium it starts are one process group,
// killed at the end.
func runPlayerScript(t *testing.T, node, chromium string,
	args ...string) map[string]json.RawMessage {
	t.Helper()

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	var stdout, stderr bytes.Buffer

	cmd := exec.CommandContext(ctx, node, append([]string{"run.mjs"}, args...)...)
	cmd.Dir = playerTestDir
	cmd.Env = append(os.Environ(), "CHROMIUM="+chromium)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }

	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}

	pgid := cmd.Process.Pid
	t.Cleanup(func() { syscall.Kill(-pgid, syscall.SIGKILL) })

	if err := cmd.Wait(); err != nil {
		t.Fatalf("run.mjs: %v\n%s", err, stderr.String())
	}

	var raw map[string]json.RawMessage
	if err := json.Unmarshal(stdout.Bytes(), &raw); err != nil {
		t.Fatalf("run.mjs output: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}

	t.Logf("run.mjs: %s", stdout.String())

	return raw
}

// checkBrowserResult checks one player's run.
func checkBrowserResult(t *testing.T, r browserResult) {
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

	if len(r.Report.Errors) > 0 {
		t.Errorf("%s: player errors: %v", r.Player, r.Report.Errors)
	}

	// A player stalls when its source falls behind: on a loaded machine the
	// transcoder may, once. The 20 s must still come in a row.
	if r.CleanRun < 20 {
		t.Errorf("%s: currentTime advanced %d s in a row at most, want 20; stalls %+v, "+
			"samples %v", r.Player, r.CleanRun, r.Stalls, r.Samples)
	}

	if len(r.Stalls) > 0 {
		t.Logf("%s: stalls before 20 s in a row: %+v", r.Player, r.Stalls)
	}

	if len(r.FailedBeforeCap) > 0 {
		t.Errorf("%s: failed requests while playing: %v", r.Player, r.FailedBeforeCap)
	}

	if r.HeightAfterCap == 0 || r.HeightAfterCap >= r.HeightBeforeCap {
		t.Errorf("%s: no switch to a lower rung after the cap: %dp before, heights %v, "+
			"switches %v", r.Player, r.HeightBeforeCap, r.Report.Heights, r.Report.Switches)
	}

	t.Logf("%s: started in %d ms, %.1f s played in %d s at %.2f s latency, %dp to %dp %d ms "+
		"after the cap", r.Player, r.StartupMs, r.Samples[len(r.Samples)-1]-r.Samples[0],
		len(r.Samples)-1, r.Latency, r.HeightBeforeCap, r.HeightAfterCap, r.SwitchMs)
}
