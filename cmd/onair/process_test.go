package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// serveProcess is `onair serve` running as a child: the test binary itself,
// re-executed with ONAIR_TEST_SERVE set (see TestMain).
type serveProcess struct {
	cmd    *exec.Cmd
	stdout chan string
	done   chan error
}

func startServe(t *testing.T, data string, httpAddr string, flags ...string) *serveProcess {
	t.Helper()

	p := &serveProcess{stdout: make(chan string, 100), done: make(chan error, 1)}
	p.cmd = exec.Command(os.Args[0], append([]string{"serve", "--data", data, "--http", httpAddr,
		"--rtmp", "127.0.0.1:0", "--public-url", "http://" + httpAddr}, flags...)...)
	p.cmd.Env = append(os.Environ(), "ONAIR_TEST_SERVE=1")

	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}

	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}

	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.stdout <- sc.Text()
		}
		close(p.stdout)
		p.done <- p.cmd.Wait()
	}()

	t.Cleanup(func() {
		p.cmd.Process.Kill()
	})

	waitHealthy(t, "http://"+httpAddr)

	return p
}

func waitHealthy(t *testing.T, base string) {
	t.Helper()

	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}

		time.Sleep(50 * time.Millisecond)
	}

	t.Fatalf("%s never became healthy", base)
}

// freeAddr returns a loopback address that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()

	return ln.Addr().String()
}

// TestServeProcess runs `onair serve` as a real process: the first start
// prints the token once with a working curl line, state survives SIGKILL and
// a restart, and SIGTERM exits 0 well within the 10 s of SPEC §1.
func TestServeProcess(t *testing.T) {
	data := t.TempDir()
	addr := freeAddr(t)
	p := startServe(t, data, addr)

	p.cmd.Process.Signal(syscall.SIGTERM)
	out := collect(t, p)

	token := regexp.MustCompile(`Bearer ([0-9a-f]{48})`).FindStringSubmatch(out)
	account := regexp.MustCompile(`accounts/([0-9a-f]{32})/stream/live_inputs`).FindStringSubmatch(out)
	if token == nil || account == nil || !strings.Contains(out, "curl -X POST") {
		t.Fatalf("first start did not print a curl line with the token:\n%s", out)
	}

	// Second start: the same identity, and no token printed again.
	p = startServe(t, data, addr)
	uid := createWith(t, "http://"+addr, account[1], token[1])

	p.cmd.Process.Kill()
	<-p.done

	p = startServe(t, data, addr)
	if code := getWith(t, "http://"+addr, account[1], token[1], uid); code != 200 {
		t.Fatalf("input created before SIGKILL: GET answers %d", code)
	}

	start := time.Now()
	p.cmd.Process.Signal(syscall.SIGTERM)
	if out := collect(t, p); strings.Contains(out, token[1]) {
		t.Fatalf("token printed again on a later start:\n%s", out)
	}

	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("SIGTERM: exit code %d", code)
	}

	t.Logf("SIGTERM to exit: %v", time.Since(start))
}

// collect waits for the process to exit and returns what it printed.
func collect(t *testing.T, p *serveProcess) string {
	t.Helper()

	var b strings.Builder
	timeout := time.After(2 * shutdownTimeout)

	for {
		select {
		case line, ok := <-p.stdout:
			if !ok {
				<-p.done
				return b.String()
			}

			b.WriteString(line + "\n")
		case <-timeout:
			t.Fatalf("onair serve did not exit after SIGTERM")
		}
	}
}

func createWith(t *testing.T, base, account, token string) string {
	t.Helper()

	req, _ := http.NewRequestWithContext(context.Background(), "POST",
		base+"/client/v4/accounts/"+account+"/stream/live_inputs", strings.NewReader("{}"))
	req.Header.Set("Authorization", "Bearer "+token)

	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()

	var env struct {
		Result struct {
			UID string `json:"uid"`
		} `json:"result"`
	}

	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil || env.Result.UID == "" {
		t.Fatalf("create: status %d, err %v", resp.StatusCode, err)
	}

	return env.Result.UID
}

func getWith(t *testing.T, base, account, token, uid string) int {
	t.Helper()

	req, _ := http.NewRequest("GET", base+"/client/v4/accounts/"+account+
		"/stream/live_inputs/"+uid, nil)
	req.Header.Set("Authorization", "Bearer "+token)

	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	return resp.StatusCode
}

// TestHTTPDropsStalledHeaders: a client that never finishes its request
// headers is disconnected by the server instead of holding a handle.
func TestHTTPDropsStalledHeaders(t *testing.T) {
	cfg := &config{Data: t.TempDir(), HTTP: "127.0.0.1:0", RTMP: "", HWAccel: "none",
		LogLevel: "info", LogFormat: "text"}
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}

	n := &node{cfg: cfg, log: slog.New(slog.DiscardHandler), headerTimeout: 200 * time.Millisecond}
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	defer n.Shutdown(context.Background())

	conn, err := net.Dial("tcp", n.httpLn.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	conn.Write([]byte("GET /healthz HTTP/1.1\r\nHost: x\r\n"))

	// The server closes the connection; the read's own deadline only keeps a
	// broken server from hanging the test.
	conn.SetReadDeadline(time.Now().Add(time.Minute))
	if _, err := io.ReadAll(conn); err != nil {
		t.Fatalf("connection with stalled headers was not closed by the server: %v", err)
	}
}
