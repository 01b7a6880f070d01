package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onair/onair/internal/samples"
)

// testNode is an onair server started in process on loopback ports chosen by
// the kernel, with its data in a temporary directory.
type testNode struct {
	*node
	base string // http://127.0.0.1:PORT
	rtmp string // rtmp://127.0.0.1:PORT/live/
}

// startNode starts a node; setup, when given, adjusts it before its start.
func startNode(t testing.TB, setup ...func(*node)) *testNode {
	t.Helper()

	cfg := &config{
		Data:      t.TempDir(),
		HTTP:      "127.0.0.1:0",
		RTMP:      "127.0.0.1:0",
		PublicURL: "http://127.0.0.1:8080",
		HWAccel:   "none",
		LogLevel:  "debug",
		LogFormat: "text",
	}

	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}

	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	// Broadcasts end as their publisher leaves, unless a test sets a
	// reconnect window.
	n := &node{cfg: cfg, log: log, reconnectWindow: -1}
	for _, f := range setup {
		f(n)
	}

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

	return &testNode{
		node: n,
		base: "http://" + n.httpLn.Addr().String(),
		rtmp: "rtmp://" + n.rtmpLn.Addr().String() + "/live/",
	}
}

// testWriter sends log lines to the test's log.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// call sends an API request and decodes the envelope's result into out.
func (n *testNode) call(t *testing.T, method, path string, body any, out any) int {
	t.Helper()

	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}

	url := n.base + "/client/v4/accounts/" + n.cfg.AccountID + path
	req, _ := http.NewRequest(method, url, r)
	req.Header.Set("Authorization", "Bearer "+n.cfg.APIToken)
	req.Header.Set("Content-Type", "application/json")

	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()

	var env struct {
		Result  json.RawMessage `json:"result"`
		Success bool            `json:"success"`
	}

	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		t.Fatalf("%s %s: body is not the envelope: %v", method, path, err)
	}

	if out != nil && env.Success {
		if err := json.Unmarshal(env.Result, out); err != nil {
			t.Fatalf("%s %s: result: %v", method, path, err)
		}
	}

	return resp.StatusCode
}

// liveInput is the part of the API's live input this test reads.
type liveInput struct {
	UID     string `json:"uid"`
	Enabled bool   `json:"enabled"`
	RTMP    struct {
		URL       string `json:"url"`
		StreamKey string `json:"streamKey"`
	} `json:"rtmp"`
	Status *struct {
		Current struct {
			State  string `json:"state"`
			Reason string `json:"reason"`
		} `json:"current"`
	} `json:"status"`
}

func (li *liveInput) state() string {
	if li.Status == nil {
		return ""
	}

	return li.Status.Current.State
}

func (n *testNode) createInput(t *testing.T) *liveInput {
	t.Helper()

	var li liveInput
	if code := n.call(t, "POST", "/stream/live_inputs", map[string]any{}, &li); code != 200 {
		t.Fatalf("create live input: status %d", code)
	}

	return &li
}

func (n *testNode) input(t *testing.T, uid string) *liveInput {
	t.Helper()

	var li liveInput
	if code := n.call(t, "GET", "/stream/live_inputs/"+uid, nil, &li); code != 200 {
		t.Fatalf("get live input: status %d", code)
	}

	return &li
}

// waitState polls the API until the input reaches state.
func (n *testNode) waitState(t *testing.T, uid, state string) {
	t.Helper()

	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if n.input(t, uid).state() == state {
			return
		}

		time.Sleep(100 * time.Millisecond)
	}

	t.Fatalf("input %s never reached state %q (now %q)", uid, state, n.input(t, uid).state())
}

// ffmpeg is a running ffmpeg child process, killed when the test ends.
type ffmpeg struct {
	cmd  *exec.Cmd
	out  bytes.Buffer
	done chan error
}

func startFFmpeg(t *testing.T, args ...string) *ffmpeg {
	t.Helper()

	f := &ffmpeg{done: make(chan error, 1)}
	f.cmd = exec.Command("ffmpeg", append([]string{"-hide_banner", "-nostdin", "-loglevel", "warning"},
		args...)...)
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

// wait waits for ffmpeg to exit and returns its error.
func (f *ffmpeg) wait(t *testing.T) error {
	t.Helper()

	select {
	case err := <-f.done:
		f.done <- err
		return err
	case <-time.After(2 * time.Minute):
		t.Fatalf("ffmpeg did not exit: %s", f.out.String())
		return nil
	}
}

var (
	clipOnce sync.Once
	clipPath string
	clipErr  error
)

// sampleClip returns the 720p24 sample clip, or a 10 s testsrc2 + sine clip
// of the same shape made with ffmpeg when ../shared/media is missing.
func sampleClip(t *testing.T) string {
	t.Helper()

	shared := samples.Path("bbb-720p24-10s.mp4")
	if _, err := os.Stat(shared); err == nil {
		return shared
	}

	clipOnce.Do(func() {
		dir, err := os.MkdirTemp("", "onair-clip")
		if err != nil {
			clipErr = err
			return
		}

		clipPath = filepath.Join(dir, "testsrc-720p24-10s.mp4")
		out, err := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error",
			"-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=24:duration=10",
			"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100:duration=10",
			"-c:v", "libx264", "-g", "60", "-c:a", "aac", "-ac", "2", "-shortest",
			clipPath).CombinedOutput()
		if err != nil {
			clipErr = fmt.Errorf("make clip: %v: %s", err, out)
		}
	})

	if clipErr != nil {
		t.Fatal(clipErr)
	}

	return clipPath
}

func TestMain(m *testing.M) {
	if os.Getenv("ONAIR_TEST_SERVE") != "" {
		// Re-executed by TestServeProcess to be `onair serve` itself.
		main()
	}

	for _, tool := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(tool); err != nil {
			fmt.Fprintf(os.Stderr, "%s not found: run `make test`, which installs it\n", tool)
			os.Exit(1)
		}
	}

	code := m.Run()
	for _, p := range []string{clipPath, smallPath} {
		if p != "" {
			os.RemoveAll(filepath.Dir(p))
		}
	}

	os.Exit(code)
}
