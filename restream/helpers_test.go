package restream

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onair/onair/ingest/rtmp"
	"github.com/onair/onair/ingest/stream"
	"github.com/onair/onair/internal/samples"
)

// clipPath is the clip the tests publish: the shared sample, or a small
// generated stand-in when it is missing, lossless so that its 1.7 Mb/s fill a
// stalled destination's socket buffers (4 MB here) within seconds, as the
// sample's 2.4 Mb/s do.
var clipPath = samples.Path("bbb-720p24-10s.mp4")

// waitLimit bounds every wait on a condition.
const waitLimit = 40 * time.Second

func TestMain(m *testing.M) {
	code := func() int {
		if _, err := os.Stat(clipPath); err == nil {
			return m.Run()
		}

		dir, err := os.MkdirTemp("", "restream-test")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)

			return 1
		}
		defer os.RemoveAll(dir)

		clipPath = filepath.Join(dir, "clip.mp4")
		out, err := exec.Command("ffmpeg", "-v", "error", "-f", "lavfi",
			"-i", "testsrc2=size=320x240:rate=24", "-f", "lavfi", "-i",
			"sine=frequency=440:sample_rate=44100", "-t", "10", "-c:v", "libx264",
			"-preset", "ultrafast", "-qp", "0", "-g", "48", "-c:a", "aac", clipPath).CombinedOutput()
		if err != nil {
			fmt.Fprintf(os.Stderr, "generating the test clip: %v: %s\n", err, out)

			return 1
		}

		return m.Run()
	}()
	os.Exit(code)
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

// testLog returns a logger whose lines the test prints when it fails.
func testLog(t testing.TB) (*slog.Logger, *syncBuffer) {
	t.Helper()

	buf := &syncBuffer{}
	t.Cleanup(func() {
		if t.Failed() || os.Getenv("RESTREAM_TEST_LOG") != "" {
			t.Logf("log:\n%s", buf.String())
		}
	})

	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

// waitFor polls cond until it holds, failing the test after waitLimit.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()

	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}

		time.Sleep(50 * time.Millisecond)
	}
}

// config is a Loader over a list the test changes.
type config struct {
	mu   sync.Mutex
	outs []Output
}

func (c *config) set(outs ...Output) {
	c.mu.Lock()
	defer c.mu.Unlock()

	c.outs = outs
}

func (c *config) load(context.Context, string) ([]Output, error) {
	c.mu.Lock()
	defer c.mu.Unlock()

	return append([]Output(nil), c.outs...), nil
}

// inputUID is the live input the tests restream.
const inputUID = "input"

// newManager starts a manager over cfg with short backoffs.
func newManager(t testing.TB, cfg *config, queue int) *Manager {
	t.Helper()

	log, _ := testLog(t)
	m := &Manager{Load: cfg.load, Log: log, QueueSize: queue,
		MinBackoff: 200 * time.Millisecond, MaxBackoff: 2 * time.Second}

	if err := m.Start(); err != nil {
		t.Fatal(err)
	}

	t.Cleanup(m.Close)

	return m
}

// directory opens one hub with one key.
type directory struct {
	key string
	hub *stream.Hub
}

func (d *directory) PublishHub(protocol, key string) (*stream.Hub, stream.Secret, error) {
	if key != d.key {
		return nil, "", &stream.AuthError{Reason: stream.AuthUnknownKey}
	}

	return d.hub, "", nil
}

func (d *directory) PlaybackHub(string, string) (*stream.Hub, stream.Secret, error) {
	return nil, "", &stream.AuthError{Reason: stream.AuthUnknownKey}
}

// startRTMP runs an onair RTMP ingest server for hub on a loopback port.
func startRTMP(t testing.TB, key string, hub *stream.Hub) string {
	t.Helper()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}

	log, _ := testLog(t)
	s := &rtmp.Server{Directory: &directory{key: key, hub: hub}, Log: log}

	if err := s.Start(ln); err != nil {
		t.Fatal(err)
	}

	t.Cleanup(func() { s.Close() })

	return ln.Addr().String()
}

// source is the live input: an onair RTMP ingest whose broadcasts go to a
// manager, and an ffmpeg publisher.
type source struct {
	addr string
	hub  *stream.Hub

	mu        sync.Mutex
	broadcast *stream.Broadcast
}

func startSource(t testing.TB, m *Manager) *source {
	t.Helper()

	s := &source{hub: &stream.Hub{InputUID: inputUID}}
	s.hub.OnStart = func(b *stream.Broadcast, _ *stream.Publisher) {
		s.mu.Lock()
		s.broadcast = b
		s.mu.Unlock()

		m.Live(inputUID, b)
	}
	s.hub.OnEnd = func(b *stream.Broadcast, _ *stream.Publisher, _ error) {
		m.Ended(inputUID, b)
	}
	s.addr = startRTMP(t, "src", s.hub)

	return s
}

// current returns the broadcast in progress, waiting for it.
func (s *source) current(t testing.TB) *stream.Broadcast {
	t.Helper()

	var b *stream.Broadcast

	waitFor(t, "the source broadcast", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()

		b = s.broadcast

		return b != nil
	})

	return b
}

// publish starts ffmpeg publishing the clip loops+1 times in real time.
func (s *source) publish(t testing.TB, loops int) *exec.Cmd {
	t.Helper()

	return startProcess(t, "ffmpeg", "-v", "error", "-re", "-stream_loop", strconv.Itoa(loops),
		"-i", clipPath, "-c", "copy", "-f", "flv", "rtmp://"+s.addr+"/live/src")
}

// startProcess starts a command that the test kills by its PID at cleanup.
func startProcess(t testing.TB, name string, args ...string) *exec.Cmd {
	t.Helper()

	cmd := exec.Command(name, args...)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out

	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}

	done := make(chan struct{})

	go func() {
		cmd.Wait()
		close(done)
	}()

	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done

		if t.Failed() {
			t.Logf("%s output:\n%s", name, out.String())
		}
	})

	return cmd
}

// freeTCPPort returns a loopback TCP port that was free a moment ago.
func freeTCPPort(t testing.TB) int {
	t.Helper()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()

	return ln.Addr().(*net.TCPAddr).Port
}

// freeUDPPort returns a loopback UDP port that was free a moment ago.
func freeUDPPort(t testing.TB) int {
	t.Helper()

	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	return c.LocalAddr().(*net.UDPAddr).Port
}

// counter reads a broadcast like the transcoder does and counts its units.
type counter struct {
	mu    sync.Mutex
	units []*stream.Unit
	err   error
	done  chan struct{}
}

func newCounter(b *stream.Broadcast, name string, queue int) *counter {
	c := &counter{done: make(chan struct{})}
	r := b.NewReader(name, queue)

	go func() {
		defer close(c.done)

		for u := range r.Units() {
			c.mu.Lock()
			c.units = append(c.units, u)
			c.mu.Unlock()
		}

		c.mu.Lock()
		c.err = r.Err()
		c.mu.Unlock()
	}()

	return c
}

func (c *counter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()

	return len(c.units)
}

func (c *counter) snapshot() ([]*stream.Unit, error) {
	c.mu.Lock()
	defer c.mu.Unlock()

	return append([]*stream.Unit(nil), c.units...), c.err
}

// sink is an onair RTMP ingest that records what an output pushes.
type sink struct {
	addr string
	hub  *stream.Hub

	mu       sync.Mutex
	counters []*counter
	tracks   [][]*stream.Track
}

func startSink(t testing.TB, key string) *sink {
	t.Helper()

	d := newSink()
	d.addr = startRTMP(t, key, d.hub)

	return d
}

// newSink returns a sink without its server.
func newSink() *sink {
	d := &sink{hub: &stream.Hub{InputUID: "destination"}}
	d.hub.OnStart = func(b *stream.Broadcast, _ *stream.Publisher) {
		c := newCounter(b, "destination", 1<<16)

		d.mu.Lock()
		d.counters = append(d.counters, c)
		d.tracks = append(d.tracks, b.Tracks())
		d.mu.Unlock()
	}

	return d
}

// first returns what the first broadcast received.
func (d *sink) first() (*counter, []*stream.Track) {
	d.mu.Lock()
	defer d.mu.Unlock()

	if len(d.counters) == 0 {
		return nil, nil
	}

	return d.counters[0], d.tracks[0]
}

// status returns an output's state, or "" when it is not running.
func status(m *Manager, uid string) Status {
	s, _ := m.Status(inputUID, uid)

	return s
}

// probe returns ffprobe's codec names of a file's streams and its start time.
func probe(t testing.TB, path string) ([]string, float64) {
	t.Helper()

	out, err := exec.Command("ffprobe", "-v", "error", "-show_entries",
		"stream=codec_name:format=start_time", "-of", "default=nw=1", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe %s: %v: %s", path, err, out)
	}

	var (
		codecs []string
		start  float64
	)

	for _, line := range strings.Split(string(out), "\n") {
		k, v, _ := strings.Cut(line, "=")
		switch k {
		case "codec_name":
			codecs = append(codecs, v)
		case "start_time":
			start, _ = strconv.ParseFloat(v, 64)
		}
	}

	return codecs, start
}

// fileSize returns the size of a file, 0 when missing.
func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}

	return fi.Size()
}

// startRTMPS runs an onair RTMPS ingest for hub with a fresh self-signed
// certificate for 127.0.0.1.
func startRTMPS(t testing.TB, key string, hub *stream.Hub) string {
	t.Helper()

	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}

	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1),
		Subject:   pkix.Name{CommonName: "onair test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}

	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}

	log, _ := testLog(t)
	s := &rtmp.Server{Directory: &directory{key: key, hub: hub}, Log: log,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der},
			PrivateKey: priv}}}}

	if err := s.Start(ln); err != nil {
		t.Fatal(err)
	}

	t.Cleanup(func() { s.Close() })

	return ln.Addr().String()
}
