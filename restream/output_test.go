package restream

import (
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/onair/onair/ingest/stream"
)

// checkCodecs fails unless ffprobe found H.264 and AAC.
func checkCodecs(t *testing.T, codecs []string) {
	t.Helper()

	if !slices.Contains(codecs, "h264") || !slices.Contains(codecs, "aac") {
		t.Errorf("destination got streams %v, want h264 and aac", codecs)
	}
}

func TestRTMPToOnair(t *testing.T) {
	dst := startSink(t, "dst-key")
	cfg := &config{}
	cfg.set(Output{UID: "good", URL: "rtmp://" + dst.addr + "/live", StreamKey: "dst-key",
		Enabled: true},
		Output{UID: "refused", URL: "rtmp://" + dst.addr + "/live", StreamKey: "wrong",
			Enabled: true})
	m := newManager(t, cfg, 0)
	src := startSource(t, m)
	src.publish(t, 0)

	waitFor(t, "the destination to receive 100 units", func() bool {
		c, _ := dst.first()
		return c != nil && c.count() >= 100
	})

	if s := status(m, "good"); s.State != StateConnected {
		t.Errorf("good output is %q (%s), want connected", s.State, s.Reason)
	}

	c, tracks := dst.first()
	codecs := map[stream.Codec]bool{}

	for _, tr := range tracks {
		codecs[tr.Codec] = true
	}

	if !codecs[stream.CodecH264] || !codecs[stream.CodecAAC] {
		t.Errorf("destination tracks %v, want H.264 and AAC", codecs)
	}

	units, _ := c.snapshot()
	firstVideo := slices.IndexFunc(units, func(u *stream.Unit) bool { return u.Track.IsVideo() })

	if firstVideo < 0 || !units[firstVideo].Key {
		t.Errorf("first video unit of the destination is not a keyframe")
	}

	waitFor(t, "the refused output to show an error", func() bool {
		return status(m, "refused").State == StateError
	})

	if s := status(m, "refused"); s.Reason == "" || strings.Contains(s.Reason, "wrong") {
		t.Errorf("refused output's reason %q: want a reason without the key", s.Reason)
	}
}

func TestRetryUntilFFmpegListens(t *testing.T) {
	port := freeTCPPort(t)
	cfg := &config{}
	cfg.set(Output{UID: "ff", URL: fmt.Sprintf("rtmp://127.0.0.1:%d/app", port),
		StreamKey: "key", Enabled: true})
	m := newManager(t, cfg, 0)
	src := startSource(t, m)
	src.publish(t, 2)

	waitFor(t, "the output to fail on a closed port", func() bool {
		return status(m, "ff").State == StateError
	})

	if s := status(m, "ff"); !strings.Contains(s.Reason, "refused") {
		t.Errorf("reason %q, want the refused connection", s.Reason)
	}

	listen := func(out string) *exec.Cmd {
		return startProcess(t, "ffmpeg", "-v", "error", "-listen", "1", "-i",
			fmt.Sprintf("rtmp://127.0.0.1:%d/app/key", port), "-c", "copy", "-f", "flv", out)
	}

	first := filepath.Join(t.TempDir(), "first.flv")
	ff := listen(first)

	waitFor(t, "the retry to connect", func() bool {
		return status(m, "ff").State == StateConnected
	})
	waitFor(t, "ffmpeg to write 200 kB", func() bool { return fileSize(first) > 200<<10 })

	// The destination goes away mid-stream, then comes back.
	ff.Process.Kill()
	waitFor(t, "the output to notice", func() bool {
		return status(m, "ff").State != StateConnected
	})

	second := filepath.Join(t.TempDir(), "second.flv")
	ff = listen(second)

	waitFor(t, "the output to reconnect", func() bool {
		return status(m, "ff").State == StateConnected
	})
	waitFor(t, "ffmpeg to write 200 kB again", func() bool { return fileSize(second) > 200<<10 })

	// Disabling the output closes the connection: ffmpeg ends its file.
	cfg.set()

	if err := m.Reload(inputUID); err != nil {
		t.Fatal(err)
	}

	waitProcess(t, ff)

	if src.hub.Current() == nil {
		t.Error("ffmpeg ended with the broadcast, not when the output was disabled")
	}

	for _, out := range []string{first, second} {
		codecs, start := probe(t, out)
		checkCodecs(t, codecs)

		if start > 1 {
			t.Errorf("%s starts at %.3f s, want near zero", filepath.Base(out), start)
		}
	}
}

func TestEnableMidBroadcastToFFmpeg(t *testing.T) {
	cfg := &config{}
	m := newManager(t, cfg, 0)
	src := startSource(t, m)
	src.publish(t, 1)

	b := src.current(t)
	seen := newCounter(b, "watch", 1<<16)

	// Let the broadcast run past its first keyframes.
	waitFor(t, "three seconds of the source", func() bool {
		units, _ := seen.snapshot()
		return len(units) > 0 && units[len(units)-1].DTS-units[0].DTS > 3*time.Second
	})

	port := freeTCPPort(t)
	out := filepath.Join(t.TempDir(), "out.flv")
	startProcess(t, "ffmpeg", "-v", "error", "-listen", "1", "-i",
		fmt.Sprintf("rtmp://127.0.0.1:%d/app/key", port), "-c", "copy", "-f", "flv", out)

	cfg.set(Output{UID: "late", URL: fmt.Sprintf("rtmp://127.0.0.1:%d/app/key", port),
		Enabled: true})

	if err := m.Reload(inputUID); err != nil {
		t.Fatal(err)
	}

	waitFor(t, "ffmpeg to write 200 kB", func() bool { return fileSize(out) > 200<<10 })

	codecs, start := probe(t, out)
	checkCodecs(t, codecs)

	if start > 1 {
		t.Errorf("output enabled mid-broadcast starts at %.3f s, want rebased near zero", start)
	}
}

func TestSRTToFFmpeg(t *testing.T) {
	port := freeUDPPort(t)
	out := filepath.Join(t.TempDir(), "out.ts")
	pass := "passphrase-0123"
	startProcess(t, "ffmpeg", "-v", "error", "-i",
		fmt.Sprintf("srt://127.0.0.1:%d?mode=listener&passphrase=%s", port, pass),
		"-c", "copy", "-f", "mpegts", out)

	cfg := &config{}
	cfg.set(Output{UID: "srt", URL: fmt.Sprintf("srt://127.0.0.1:%d?streamid=onair", port),
		StreamKey: pass, Enabled: true})
	m := newManager(t, cfg, 0)
	src := startSource(t, m)
	src.publish(t, 0)

	waitFor(t, "ffmpeg to write 200 kB of MPEG-TS", func() bool { return fileSize(out) > 200<<10 })

	if s := status(m, "srt"); s.State != StateConnected {
		t.Errorf("srt output is %q (%s), want connected", s.State, s.Reason)
	}

	codecs, _ := probe(t, out)
	checkCodecs(t, codecs)
}

func TestSilentDestinationDoesNotStallInput(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}

	accepted := make(chan net.Conn, 16)

	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				close(accepted)
				return
			}

			accepted <- c // held open, never read
		}
	}()

	t.Cleanup(func() {
		ln.Close()

		for c := range accepted {
			c.Close()
		}
	})

	cfg := &config{}
	cfg.set(Output{UID: "silent", URL: "rtmp://" + ln.Addr().String() + "/live",
		StreamKey: "k", Enabled: true})
	m := newManager(t, cfg, 0)
	src := startSource(t, m)
	src.publish(t, 2)

	b := src.current(t)
	hls := newCounter(b, "transcode", 512)

	waitFor(t, "the silent destination to time out", func() bool {
		return status(m, "silent").State == StateError
	})

	before := hls.count()
	waitFor(t, "the input to keep flowing", func() bool { return hls.count() > before+100 })

	if _, err := hls.snapshot(); err != nil {
		t.Errorf("the input's other reader was closed: %v", err)
	}

	if s := status(m, "silent"); !strings.Contains(s.Reason, "in time") {
		t.Errorf("reason %q, want a timeout", s.Reason)
	}
}

// stallProxy forwards a connection to target until the client has sent
// limit bytes, then stops reading from it: a destination that stalls.
func stallProxy(t *testing.T, target string, limit int64) string {
	t.Helper()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}

	done := make(chan struct{})
	t.Cleanup(func() {
		close(done)
		ln.Close()
	})

	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}

			go proxy(c, target, limit, done)
		}
	}()

	return ln.Addr().String()
}

func proxy(c net.Conn, target string, limit int64, done chan struct{}) {
	defer c.Close()

	// A small window makes the stall felt sooner.
	c.(*net.TCPConn).SetReadBuffer(8 << 10)

	up, err := net.Dial("tcp", target)
	if err != nil {
		return
	}
	defer up.Close()

	go func() {
		buf := make([]byte, 32<<10)

		for {
			n, err := up.Read(buf)
			if err != nil {
				return
			}

			if _, err := c.Write(buf[:n]); err != nil {
				return
			}
		}
	}()

	var sent int64

	buf := make([]byte, 4<<10)
	for sent < limit {
		n, err := c.Read(buf)
		if err != nil {
			return
		}

		if _, err := up.Write(buf[:n]); err != nil {
			return
		}

		sent += int64(n)
	}

	<-done
}

func TestSlowDestinationDropsToKeyframe(t *testing.T) {
	slow := startSink(t, "k")
	fast := startSink(t, "k")
	addr := stallProxy(t, slow.addr, 256<<10)

	cfg := &config{}
	cfg.set(Output{UID: "slow", URL: "rtmp://" + addr + "/live", StreamKey: "k", Enabled: true},
		Output{UID: "fast", URL: "rtmp://" + fast.addr + "/live", StreamKey: "k",
			Enabled: true})
	m := newManager(t, cfg, 32)
	src := startSource(t, m)
	// Long enough to outlast every wait: the kernel takes megabytes before
	// the stalled connection blocks.
	src.publish(t, 8)

	b := src.current(t)
	hls := newCounter(b, "transcode", 512)

	waitFor(t, "the slow output to drop units", func() bool {
		return status(m, "slow").DroppedUnits > 0
	})

	before := hls.count()
	waitFor(t, "the input to keep flowing", func() bool { return hls.count() > before+100 })

	if _, err := hls.snapshot(); err != nil {
		t.Errorf("the input's other reader was closed: %v", err)
	}

	if s := status(m, "fast"); s.DroppedUnits != 0 {
		t.Errorf("the fast output dropped %d units", s.DroppedUnits)
	}
}

func TestStatusWithoutBroadcast(t *testing.T) {
	cfg := &config{}
	cfg.set(Output{UID: "idle", URL: "rtmp://127.0.0.1:1/live", StreamKey: "k", Enabled: true})
	m := newManager(t, cfg, 0)

	if err := m.Reload(inputUID); err != nil {
		t.Fatal(err)
	}

	s, ok := m.Status(inputUID, "idle")
	if !ok || s.State != StateDisconnected || s.Reason != errBroadcastEnded.Error() {
		t.Errorf("idle output: %+v (running %v), want disconnected, not live", s, ok)
	}

	m.Remove(inputUID)

	if _, ok := m.Status(inputUID, "idle"); ok {
		t.Error("output of a removed input still reported")
	}
}

func TestRTMPSVerifiesCertificate(t *testing.T) {
	verified, skipped := newSink(), newSink()
	verified.addr = startRTMPS(t, "k", verified.hub)
	skipped.addr = startRTMPS(t, "k", skipped.hub)

	cfg := &config{}
	cfg.set(Output{UID: "verify", URL: "rtmps://" + verified.addr + "/live", StreamKey: "k",
		Enabled: true},
		Output{UID: "skip", URL: "rtmps://" + skipped.addr + "/live", StreamKey: "k",
			TLSSkipVerify: true, Enabled: true})
	m := newManager(t, cfg, 0)
	src := startSource(t, m)
	src.publish(t, 0)

	waitFor(t, "the self-signed destination to be refused", func() bool {
		return status(m, "verify").State == StateError
	})

	if s := status(m, "verify"); !strings.Contains(s.Reason, "certificate") {
		t.Errorf("reason %q, want the certificate named", s.Reason)
	}

	waitFor(t, "the output that skips verification to deliver 50 units", func() bool {
		c, _ := skipped.first()
		return c != nil && c.count() >= 50
	})
}

func TestSRTWrongPassphrase(t *testing.T) {
	port := freeUDPPort(t)
	startProcess(t, "ffmpeg", "-v", "error", "-i",
		fmt.Sprintf("srt://127.0.0.1:%d?mode=listener&passphrase=right-passphrase", port),
		"-c", "copy", "-f", "null", "-")

	cfg := &config{}
	cfg.set(Output{UID: "srt", URL: fmt.Sprintf("srt://127.0.0.1:%d", port),
		StreamKey: "wrong-passphrase", Enabled: true})
	m := newManager(t, cfg, 0)
	src := startSource(t, m)
	src.publish(t, 0)

	waitFor(t, "the refused srt output to show an error", func() bool {
		return status(m, "srt").State == StateError
	})

	if s := status(m, "srt"); s.Reason == "" || strings.Contains(s.Reason, "wrong-passphrase") {
		t.Errorf("reason %q: want one without the passphrase", s.Reason)
	}
}
