package rtmp

import (
	"bytes"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/onair/onair/ingest/stream"
	"github.com/onair/onair/internal/samples"
)

// sampleClip is the shared clip the ffmpeg tests publish.
var sampleClip = samples.Path("bbb-720p24-10s.mp4")

// clipPath is the clip in use: sampleClip or a generated stand-in.
var clipPath string

func TestMain(m *testing.M) {
	code := func() int {
		if _, err := os.Stat(sampleClip); err == nil {
			clipPath = sampleClip

			return m.Run()
		}

		dir, err := os.MkdirTemp("", "rtmp-test")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)

			return 1
		}
		defer os.RemoveAll(dir)

		clipPath = filepath.Join(dir, "clip.mp4")
		out, err := exec.Command("ffmpeg", "-v", "error", "-f", "lavfi",
			"-i", "testsrc2=size=1280x720:rate=24", "-f", "lavfi", "-i",
			"sine=frequency=440:sample_rate=44100", "-t", "10", "-c:v", "libx264",
			"-preset", "ultrafast", "-bf", "0", "-g", "48", "-c:a", "aac", "-ac", "2",
			clipPath).CombinedOutput()
		if err != nil {
			fmt.Fprintf(os.Stderr, "generating the test clip: %v: %s\n", err, out)

			return 1
		}

		return m.Run()
	}()
	os.Exit(code)
}

// testDirectory is a Directory over a map of stream keys.
type testDirectory struct {
	hubs     map[string]*stream.Hub
	disabled map[string]bool
}

func (d *testDirectory) PublishHub(protocol, key string) (*stream.Hub, stream.Secret, error) {
	h, ok := d.hubs[key]
	if !ok || protocol != "rtmp" {
		return nil, "", &stream.AuthError{Reason: stream.AuthUnknownKey}
	}

	if d.disabled[key] {
		return nil, "", &stream.AuthError{Reason: stream.AuthDisabled, InputUID: h.InputUID}
	}

	return h, "", nil
}

func (d *testDirectory) PlaybackHub(string, string) (*stream.Hub, stream.Secret, error) {
	return nil, "", &stream.AuthError{Reason: stream.AuthUnknownKey}
}

// recorder follows every broadcast of a hub from its first unit.
type recorder struct {
	mu         sync.Mutex
	broadcasts []*recording
	started    chan struct{} // closed at the first broadcast
	once       sync.Once
}

// recording is what a reader got from one broadcast.
type recording struct {
	tracks []*stream.Track
	done   chan struct{}

	mu    sync.Mutex
	units []*stream.Unit
	err   error
}

func (r *recording) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()

	return len(r.units)
}

func (r *recording) snapshot() []*stream.Unit {
	r.mu.Lock()
	defer r.mu.Unlock()

	return append([]*stream.Unit(nil), r.units...)
}

// newHub returns a hub whose broadcasts rec records.
func newHub(uid string, rec *recorder) *stream.Hub {
	rec.started = make(chan struct{})

	return &stream.Hub{
		InputUID: uid,
		OnStart: func(b *stream.Broadcast, _ *stream.Publisher) {
			r := &recording{tracks: b.Tracks(), done: make(chan struct{})}
			rd := b.NewReader("test", 100000)

			go func() {
				defer close(r.done)

				for u := range rd.Units() {
					r.mu.Lock()
					r.units = append(r.units, u)
					r.mu.Unlock()
				}

				r.mu.Lock()
				r.err = rd.Err()
				r.mu.Unlock()
			}()

			rec.mu.Lock()
			rec.broadcasts = append(rec.broadcasts, r)
			rec.mu.Unlock()
			rec.once.Do(func() { close(rec.started) })
		},
	}
}

func (rec *recorder) all() []*recording {
	rec.mu.Lock()
	defer rec.mu.Unlock()

	return append([]*recording(nil), rec.broadcasts...)
}

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()

	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()

	return b.buf.String()
}

// startServer runs a Server on a loopback port and returns its address.
func startServer(t *testing.T, dir stream.Directory) (string, *syncBuffer) {
	t.Helper()

	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}

	s := &Server{Directory: dir, Log: log}
	if err := s.Start(ln); err != nil {
		t.Fatal(err)
	}

	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}

		if t.Failed() || os.Getenv("RTMP_TEST_LOG") != "" {
			t.Logf("server log:\n%s", logs.String())
		}
	})

	return ln.Addr().String(), logs
}

// proc is an ffmpeg process started by a test.
type proc struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
	code int
}

// ffmpeg starts an ffmpeg process that is killed at the end of the test.
func ffmpeg(t *testing.T, args ...string) *proc {
	t.Helper()

	p := &proc{out: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command("ffmpeg", append([]string{"-nostdin", "-v", "error", "-y"}, args...)...)
	p.cmd.Stdout = p.out
	p.cmd.Stderr = p.out

	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}

	go func() {
		_ = p.cmd.Wait()
		p.code = p.cmd.ProcessState.ExitCode()
		close(p.done)
	}()

	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
	})

	return p
}

// wait waits for the process to exit and returns its exit code.
func (p *proc) wait(t *testing.T, limit time.Duration) int {
	t.Helper()

	select {
	case <-p.done:
		return p.code

	case <-time.After(limit):
		t.Fatalf("ffmpeg still running after %s", limit)

		return 0
	}
}

// waitFor polls cond until it holds or limit passes.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()

	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}

		time.Sleep(20 * time.Millisecond)
	}
}
