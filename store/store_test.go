package store

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// childEnv, when set to a database path, makes the test binary a child that
// creates one live input, prints its uid once the write returned, and waits
// to be killed.
const childEnv = "ONAIR_STORE_TEST_CHILD"

func TestMain(m *testing.M) {
	if path := os.Getenv(childEnv); path != "" {
		os.Exit(runChild(path))
	}

	os.Exit(m.Run())
}

func runChild(path string) int {
	s, err := Open(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)

		return 1
	}

	in := &LiveInput{Enabled: true, Meta: map[string]any{"name": "killed"},
		Recording: Recording{Mode: RecordingAutomatic}}
	if err := s.CreateLiveInput(context.Background(), in); err != nil {
		fmt.Fprintln(os.Stderr, err)

		return 1
	}

	fmt.Println(in.UID)

	select {} // wait for SIGKILL
}

func openTemp(t *testing.T) (*Store, string) {
	t.Helper()

	path := filepath.Join(t.TempDir(), "onair.db")

	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}

	t.Cleanup(func() { s.Close() })

	return s, path
}

func TestOpen(t *testing.T) {
	s, path := openTemp(t)

	tests := []struct {
		pragma string
		want   string
	}{
		{"journal_mode", "wal"},
		{"synchronous", "2"}, // FULL
		{"foreign_keys", "1"},
		{"busy_timeout", "5000"},
	}
	for _, tt := range tests {
		t.Run(tt.pragma, func(t *testing.T) {
			var got string
			if err := s.db.QueryRow("PRAGMA " + tt.pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}

			if got != tt.want {
				t.Errorf("PRAGMA %s = %q, want %q", tt.pragma, got, tt.want)
			}
		})
	}

	var version int
	if err := s.db.QueryRow("SELECT version FROM schema_version").Scan(&version); err != nil {
		t.Fatal(err)
	}

	if version != len(migrations) {
		t.Errorf("schema version %d, want %d", version, len(migrations))
	}

	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}

	if info.Mode().Perm() != 0o600 {
		t.Errorf("database mode %v, want 0600", info.Mode().Perm())
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()

	notDB := filepath.Join(dir, "garbage.db")
	if err := os.WriteFile(notDB, []byte(strings.Repeat("not a database ", 100)), 0o600); err != nil {
		t.Fatal(err)
	}

	newer := filepath.Join(dir, "newer.db")
	s, err := Open(newer)
	if err != nil {
		t.Fatal(err)
	}

	if _, err := s.db.Exec("UPDATE schema_version SET version = 999"); err != nil {
		t.Fatal(err)
	}

	s.Close()

	tests := []struct {
		name string
		path string
		want string
	}{
		{"empty", "", "non-empty"},
		{"query", filepath.Join(dir, "a?b.db"), "without '?'"},
		{"missing dir", filepath.Join(dir, "no", "such.db"), "no such file"},
		{"not a database", notDB, "not a database"},
		{"newer schema", newer, "newer than this build"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(tt.path)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}

			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestSurvivesSIGKILL(t *testing.T) {
	path := filepath.Join(t.TempDir(), "onair.db")

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+path)
	cmd.Stderr = os.Stderr

	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}

	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}

	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})

	uid, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("child printed no uid: %v", err)
	}

	uid = strings.TrimSpace(uid)

	// SIGKILL: no deferred close, no checkpoint, nothing flushed on the way out.
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}

	if err := cmd.Wait(); err == nil {
		t.Fatal("child exited cleanly, want killed")
	}

	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	in, err := s.GetLiveInput(context.Background(), uid)
	if err != nil {
		t.Fatalf("acknowledged live input lost after SIGKILL: %v", err)
	}

	if in.Meta["name"] != "killed" {
		t.Errorf("meta %v, want name killed", in.Meta)
	}

	if _, err := s.LiveInputByStreamKey(context.Background(), in.StreamKey); err != nil {
		t.Errorf("stream key lookup after SIGKILL: %v", err)
	}
}

func TestReopen(t *testing.T) {
	s, path := openTemp(t)
	ctx := context.Background()

	days := 45
	in := &LiveInput{Enabled: true, DefaultCreator: "alice", DeleteRecordingAfterDays: &days,
		Meta:      map[string]any{"name": "studio A", "n": 12345678901234567},
		Recording: Recording{Mode: RecordingOff, TimeoutSeconds: 10, AllowedOrigins: []string{"a.com"}}}
	if err := s.CreateLiveInput(ctx, in); err != nil {
		t.Fatal(err)
	}

	if err := s.SetLiveInputStatus(ctx, in.UID, StateConnected, "publisher connected"); err != nil {
		t.Fatal(err)
	}

	want, err := s.GetLiveInput(ctx, in.UID)
	if err != nil {
		t.Fatal(err)
	}

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()

	got, err := s2.GetLiveInput(ctx, in.UID)
	if err != nil {
		t.Fatal(err)
	}

	if !reflect.DeepEqual(got, want) {
		t.Errorf("after reopen\n got %#v\nwant %#v", got, want)
	}

	if got.Meta["n"].(interface{ String() string }).String() != "12345678901234567" {
		t.Errorf("meta number %v lost precision", got.Meta["n"])
	}

	if !errors.Is(s2.DeleteLiveInput(ctx, "nope"), ErrNotFound) {
		t.Error("delete of unknown uid: want ErrNotFound")
	}
}
