package srt

import (
	"bytes"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/onair/onair/ingest/stream"
)

// sampleClip is the shared clip the ffmpeg tests publish.
const sampleClip = "/work/shared/media/bbb-720p24-10s.mp4"

// clipPath is the clip in use: sampleClip or a generated stand-in.
var clipPath string

func TestMain(m *testing.M) {
	code := func() int {
		if _, err := os.Stat(sampleClip); err == nil {
			clipPath = sampleClip

			return m.Run()
		}

		dir, err := os.MkdirTemp("", "srt-test")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)

			return 1
		}
		defer os.RemoveAll(dir)

		clipPath = filepath.Join(dir, "clip.mp4")
		out, err := exec.Command("ffmpeg", "-v", "error", "-f", "lavfi",
			"-i", "testsrc2=size=640x360:rate=24", "-f", "lavfi", "-i",
			"sine=frequency=440:sample_rate=44100", "-t", "4", "-c:v", "libx264",
			"-preset", "ultrafast", "-g", "24", "-c:a", "aac", "-ac", "2",
			clipPath).CombinedOutput()
		if err != nil {
			fmt.Fprintf(os.Stderr, "generating the test clip: %v: %s\n", err, out)

			return 1
		}

		return m.Run()
	}()
	os.Exit(code)
}

// testInput is one live input of a testDirectory.
type testInput struct {
	hub        *stream.Hub
	passphrase stream.Secret
	disabled   bool
}

// testDirectory is a Directory over maps of publish and playback IDs.
type testDirectory struct {
	publish  map[string]*testInput
	playback map[string]*testInput
}

func (d *testDirectory) PublishHub(protocol, id string) (*stream.Hub, stream.Secret, error) {
	return d.find(d.publish, protocol, id)
}

func (d *testDirectory) PlaybackHub(protocol, id string) (*stream.Hub, stream.Secret, error) {
	return d.find(d.playback, protocol, id)
}

func (d *testDirectory) find(m map[string]*testInput, protocol, id string) (
	*stream.Hub, stream.Secret, error,
) {
	in, ok := m[id]
	if !ok || protocol != "srt" {
		return nil, "", &stream.AuthError{Reason: stream.AuthUnknownKey}
	}

	if in.disabled {
		return nil, "", &stream.AuthError{Reason: stream.AuthDisabled, InputUID: in.hub.InputUID}
	}

	return in.hub, in.passphrase, nil
}

// recorder follows every broadcast of a hub and keeps its units.
type recorder struct {
	mu         sync.Mutex
	broadcasts [][]*stream.Track
	units      []*stream.Unit
	ends       []error
	wg         sync.WaitGroup
}

// attach hooks the recorder to h.
func (r *recorder) attach(h *stream.Hub) {
	h.OnStart = func(b *stream.Broadcast, _ *stream.Publisher) {
		rd := b.NewReader("recorder", 100000)

		r.mu.Lock()
		r.broadcasts = append(r.broadcasts, b.Tracks())
		r.mu.Unlock()

		r.wg.Add(1)
		go func() {
			defer r.wg.Done()

			for u := range rd.Units() {
				r.mu.Lock()
				r.units = append(r.units, u)
				r.mu.Unlock()
			}
		}()
	}
	h.OnEnd = func(_ *stream.Broadcast, _ *stream.Publisher, reason error) {
		r.mu.Lock()
		r.ends = append(r.ends, reason)
		r.mu.Unlock()
	}
}

// snapshot returns the recorded broadcasts and units.
func (r *recorder) snapshot() ([][]*stream.Track, []*stream.Unit, []error) {
	r.mu.Lock()
	defer r.mu.Unlock()

	return append([][]*stream.Track(nil), r.broadcasts...),
		append([]*stream.Unit(nil), r.units...), append([]error(nil), r.ends...)
}

// freeUDPPort returns a port the kernel just handed out on 127.0.0.1; libsrt
// binds it next (srtgo cannot report the port of a listener bound to 0).
func freeUDPPort(t testing.TB) int {
	t.Helper()

	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}

	port := pc.LocalAddr().(*net.UDPAddr).Port
	pc.Close()

	return port
}

// testLog is a logger that writes into buf, safe for concurrent use.
type testLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *testLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()

	return l.buf.Write(p)
}

func (l *testLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()

	return l.buf.String()
}

// startServer starts a server of dir on a loopback port.
func startServer(t testing.TB, dir stream.Directory) (*Server, string, *testLog) {
	t.Helper()

	tl := &testLog{}
	s := &Server{
		Address:   "127.0.0.1:" + strconv.Itoa(freeUDPPort(t)),
		Directory: dir,
		Log:       slog.New(slog.NewTextHandler(tl, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}

	if err := s.Start(); err != nil {
		t.Fatal(err)
	}

	t.Cleanup(func() { s.Close() })

	return s, s.Address, tl
}

// runFFmpeg runs ffmpeg with args and a deadline, returning its output.
func runFFmpeg(t testing.TB, timeout time.Duration, args ...string) ([]byte, error) {
	t.Helper()

	cmd := exec.Command("ffmpeg", append([]string{"-hide_banner", "-nostdin", "-v", "error"},
		args...)...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out

	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}

	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	select {
	case err := <-done:
		return out.Bytes(), err

	case <-time.After(timeout):
		_ = cmd.Process.Kill()
		<-done

		return out.Bytes(), fmt.Errorf("ffmpeg still running after %v", timeout)
	}
}

// srtURL builds an ffmpeg SRT caller URL for addr with a passphrase; the
// stream ID goes in ffmpeg's -streamid option, which takes it verbatim.
func srtURL(addr string, passphrase stream.Secret) string {
	q := "srt://" + addr + "?mode=caller&transtype=live"
	if passphrase != "" {
		q += "&passphrase=" + string(passphrase)
	}

	return q
}
