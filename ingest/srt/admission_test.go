package srt

import (
	"strings"
	"testing"
	"time"

	"github.com/onair/onair/ingest/stream"
)

func TestRejectedCallers(t *testing.T) {
	const pass = stream.Secret("0123456789abcdef0123")

	cases := []struct {
		name     string
		streamID string
		pass     stream.Secret
		wantLog  string // in the server's log
	}{
		{"wrong passphrase", "pub-id", "wrong-passphrase-000", "badsecret"},
		{"missing passphrase", "pub-id", "", "reject"},
		{"unknown stream id", "nobody", pass, "unknown stream key"},
		{"disabled input", "off-id", pass, "is disabled"},
		{"bad mode", "#!::r=pub-id,m=bidirectional", pass, "mode is not publish"},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in, rec := newTestInput("in1", pass)
			off, _ := newTestInput("in2", pass)
			off.disabled = true

			dir := &testDirectory{publish: map[string]*testInput{"pub-id": in, "off-id": off}}
			_, addr, tl := startServer(t, dir)

			out, err := runFFmpeg(t, 20*time.Second, publishArgs(srtURL(addr, tc.pass), tc.streamID, 1)...)
			if err == nil {
				t.Fatalf("ffmpeg publish accepted: %s", out)
			}

			if !strings.Contains(strings.ToLower(string(out)), "reject") {
				t.Errorf("ffmpeg did not see a rejection: %s", out)
			}

			if !strings.Contains(strings.ToLower(tl.String()), tc.wantLog) {
				t.Errorf("server log lacks %q:\n%s", tc.wantLog, tl.String())
			}

			if bs, _, _ := rec.snapshot(); len(bs) != 0 {
				t.Fatalf("refused caller started %d broadcasts", len(bs))
			}
		})
	}
}

// TestRejectionSparesPublisher checks that a refused caller does not disturb
// a publisher streaming to the same server.
func TestRejectionSparesPublisher(t *testing.T) {
	const pass = stream.Secret("0123456789abcdef0123")

	in, rec := newTestInput("in1", pass)
	dir := &testDirectory{publish: map[string]*testInput{"pub-id": in}}
	_, addr, _ := startServer(t, dir)

	done := make(chan error, 1)
	go func() {
		out, err := runFFmpeg(t, 30*time.Second, publishArgs(srtURL(addr, pass), "pub-id", 2)...)
		if err != nil {
			t.Logf("publisher: %s", out)
		}
		done <- err
	}()

	waitStarted(t, rec)

	for _, p := range []stream.Secret{"wrong-passphrase-000", ""} {
		if out, err := runFFmpeg(t, 20*time.Second,
			publishArgs(srtURL(addr, p), "pub-id", 1)...); err == nil {
			t.Fatalf("intruder accepted: %s", out)
		}
	}

	if err := <-done; err != nil {
		t.Fatalf("publisher: %v", err)
	}

	waitEnded(t, rec)
	checkRecording(t, rec)
}

// waitStarted waits for the first broadcast to start.
func waitStarted(t *testing.T, rec *recorder) {
	t.Helper()

	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if bs, _, _ := rec.snapshot(); len(bs) > 0 {
			return
		}

		time.Sleep(20 * time.Millisecond)
	}

	t.Fatal("broadcast did not start")
}
