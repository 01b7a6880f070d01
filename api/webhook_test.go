package api

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onair/onair/store"
)

const webhookPath = "/client/v4/accounts/" + testAccount + "/stream/webhook"

func TestWebhookCRUD(t *testing.T) {
	f := newFixture(t)

	if r := f.do("GET", webhookPath, "", testToken); r.status != 404 {
		t.Fatalf("GET before PUT: %d %s", r.status, r.raw)
	}

	bad := []struct {
		name string
		body string
	}{
		{"no url", `{}`},
		{"not a string", `{"notificationUrl": 5}`},
		{"relative", `{"notificationUrl": "/hook"}`},
		{"ftp", `{"notificationUrl": "ftp://example.com/hook"}`},
		{"no host", `{"notificationUrl": "http:///hook"}`},
		{"user info", `{"notificationUrl": "https://u:p@example.com/hook"}`},
		{"unknown field", `{"notificationUrl": "https://example.com/", "x": 1}`},
		{"too long", `{"notificationUrl": "https://example.com/` + strings.Repeat("a", 2100) + `"}`},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			if r := f.do("PUT", webhookPath, tc.body, testToken); r.status != 400 {
				t.Errorf("status %d, want 400: %s", r.status, r.raw)
			}
		})
	}

	first := decodeResult(t, f.do("PUT", webhookPath,
		`{"notificationUrl": "https://hooks.example/a"}`, testToken))
	secret, _ := first["secret"].(string)

	if !hex32.MatchString(secret) || first["notificationUrl"] != "https://hooks.example/a" {
		t.Fatalf("PUT result %v", first)
	}

	moved := decodeResult(t, f.do("PUT", webhookPath,
		`{"notificationUrl": "https://hooks.example/b"}`, testToken))
	if moved["secret"] != secret || moved["notificationUrl"] != "https://hooks.example/b" {
		t.Errorf("second PUT %v: want the same secret and the new URL", moved)
	}

	got := decodeResult(t, f.do("GET", webhookPath, "", testToken))
	if got["secret"] != secret || got["notificationUrl"] != "https://hooks.example/b" {
		t.Errorf("GET %v", got)
	}

	if r := f.do("DELETE", webhookPath, "", testToken); r.status != 200 {
		t.Fatalf("DELETE: %d %s", r.status, r.raw)
	}

	for _, m := range []string{"GET", "DELETE"} {
		if r := f.do(m, webhookPath, "", testToken); r.status != 404 {
			t.Errorf("%s after DELETE: %d, want 404", m, r.status)
		}
	}

	if r := f.do("POST", webhookPath, "", testToken); r.status != 405 {
		t.Errorf("POST: %d, want 405", r.status)
	}
}

// receiver is a webhook endpoint that checks every delivery's signature the
// way SPEC.md describes it and records the events it accepted.
type receiver struct {
	t      *testing.T
	secret string
	srv    *httptest.Server

	mu       sync.Mutex
	fail     func(body []byte) bool // answer 500 to this delivery
	accepted []map[string]any
	tries    []string // "<input> <event>" of every delivery, accepted or not
	badSigs  int
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{t: t}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)

	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)

	r.mu.Lock()
	defer r.mu.Unlock()

	if !r.verify(req.Header.Get("Webhook-Signature"), body) {
		r.badSigs++
		w.WriteHeader(http.StatusUnauthorized)

		return
	}

	var ev map[string]any
	if err := json.Unmarshal(body, &ev); err != nil {
		r.t.Errorf("delivery is not JSON: %q", body)
	}

	data, _ := ev["data"].(map[string]any)
	r.tries = append(r.tries, describeEvent(data))

	if r.fail != nil && r.fail(body) {
		w.WriteHeader(http.StatusInternalServerError)

		return
	}

	r.accepted = append(r.accepted, data)
}

// verify checks time=<unix>,sig1=<hex> against the secret, independently of
// SignWebhook, and wants a time within a minute of now.
func (r *receiver) verify(header string, body []byte) bool {
	var ts, sig string

	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "time":
			ts = v
		case "sig1":
			sig = v
		}
	}

	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || time.Since(time.Unix(sec, 0)).Abs() > time.Minute {
		return false
	}

	mac := hmac.New(sha256.New, []byte(r.secret))
	mac.Write([]byte(ts + "." + string(body)))
	want := hex.EncodeToString(mac.Sum(nil))

	return hmac.Equal([]byte(sig), []byte(want))
}

func describeEvent(data map[string]any) string {
	s, _ := data["input_id"].(string)
	e, _ := data["event_type"].(string)

	return s + " " + e
}

// snapshot returns the accepted events' descriptions and the tries.
func (r *receiver) snapshot() ([]string, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()

	var acc []string
	for _, d := range r.accepted {
		acc = append(acc, describeEvent(d))
	}

	return acc, append([]string(nil), r.tries...)
}

func openStore(t *testing.T, path string) *store.Store {
	t.Helper()

	st, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}

	return st
}

func startSender(t *testing.T, st *store.Store) *WebhookSender {
	t.Helper()

	ws := &WebhookSender{Outbox: st, MinBackoff: 50 * time.Millisecond,
		MaxBackoff: 200 * time.Millisecond}
	if err := ws.Start(); err != nil {
		t.Fatal(err)
	}

	return ws
}

// waitFor polls cond until it holds, failing after 30 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()

	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}

		time.Sleep(20 * time.Millisecond)
	}
}

func TestWebhookOrderAndRetry(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "onair.db"))
	t.Cleanup(func() { st.Close() })

	rcv := newReceiver(t)
	hook, err := st.SetWebhook(context.Background(), rcv.srv.URL+"/hook")
	if err != nil {
		t.Fatal(err)
	}

	rcv.secret = hook.Secret

	failed := false
	rcv.fail = func(body []byte) bool {
		// The first delivery of input a's first event fails.
		if !failed && strings.Contains(string(body), `"event_type":"live_input.connected"`) &&
			strings.Contains(string(body), `"input_id":"a"`) {
			failed = true

			return true
		}

		return false
	}

	ws := startSender(t, st)
	defer ws.Close()

	ws.Connected("a")
	ws.Errored("a", ErrCodeVideoCodec, "unsupported video codec H.265")
	ws.Disconnected("a")
	ws.Connected("b")

	waitFor(t, "four events", func() bool {
		acc, _ := rcv.snapshot()
		return len(acc) == 4
	})

	acc, tries := rcv.snapshot()
	want := []string{"b live_input.connected", "a live_input.connected",
		"a live_input.errored", "a live_input.disconnected"}

	if strings.Join(acc, "|") != strings.Join(want, "|") {
		t.Errorf("accepted %q, want %q: input a in order, b not held up by a's retry", acc, want)
	}

	if len(tries) != 5 || tries[0] != "a live_input.connected" {
		t.Errorf("tries %q, want a's first event tried twice", tries)
	}

	if rcv.badSigs != 0 {
		t.Errorf("%d deliveries had bad signatures", rcv.badSigs)
	}

	errored := rcv.accepted[2]["live_input_errored"].(map[string]any)["error"].(map[string]any)
	if errored["code"] != ErrCodeVideoCodec {
		t.Errorf("errored event %v lacks its code", errored)
	}

	if left, _ := st.WebhookEvents(context.Background(), 10); len(left) != 0 {
		t.Errorf("%d events left in the outbox after delivery", len(left))
	}
}

// TestWebhookSurvivesRestart queues an event the receiver refuses, stops the
// sender and the store, and checks that a new process delivers it.
func TestWebhookSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "onair.db")
	st := openStore(t, path)

	rcv := newReceiver(t)
	hook, err := st.SetWebhook(context.Background(), rcv.srv.URL)
	if err != nil {
		t.Fatal(err)
	}

	rcv.secret = hook.Secret
	rcv.fail = func([]byte) bool { return true }

	ws := startSender(t, st)
	ws.Disconnected("a")

	waitFor(t, "a failed delivery", func() bool {
		_, tries := rcv.snapshot()
		return len(tries) > 0
	})

	ws.Close()
	st.Close()

	rcv.mu.Lock()
	rcv.fail = nil
	rcv.mu.Unlock()

	st = openStore(t, path)
	defer st.Close()

	ws = startSender(t, st)
	defer ws.Close()

	waitFor(t, "delivery after restart", func() bool {
		acc, _ := rcv.snapshot()
		return len(acc) == 1 && acc[0] == "a live_input.disconnected"
	})
}

func TestWebhookGivesUp(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "onair.db"))
	defer st.Close()

	rcv := newReceiver(t)
	hook, _ := st.SetWebhook(context.Background(), rcv.srv.URL)
	rcv.secret = hook.Secret
	rcv.fail = func([]byte) bool { return true }

	ws := &WebhookSender{Outbox: st, MinBackoff: 10 * time.Millisecond,
		GiveUpAfter: 200 * time.Millisecond}
	if err := ws.Start(); err != nil {
		t.Fatal(err)
	}
	defer ws.Close()

	ws.Connected("a")

	waitFor(t, "the event dropped", func() bool {
		left, err := st.WebhookEvents(context.Background(), 10)
		return err == nil && len(left) == 0
	})

	if _, tries := rcv.snapshot(); len(tries) < 2 {
		t.Errorf("%d tries before giving up, want retries", len(tries))
	}
}

func TestWebhookNotQueuedWithoutURL(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "onair.db"))
	defer st.Close()

	ws := startSender(t, st)
	defer ws.Close()

	ws.Connected("a")

	if left, _ := st.WebhookEvents(context.Background(), 10); len(left) != 0 {
		t.Errorf("%d events queued with no webhook set", len(left))
	}
}

func TestWebhookBackoff(t *testing.T) {
	ws := &WebhookSender{MinBackoff: time.Second, MaxBackoff: 10 * time.Second}

	cases := []struct {
		attempts int
		want     time.Duration
	}{
		{1, time.Second}, {2, 2 * time.Second}, {3, 4 * time.Second}, {4, 8 * time.Second},
		{5, 10 * time.Second}, {60, 10 * time.Second},
	}
	for _, tc := range cases {
		if got := ws.backoff(tc.attempts); got != tc.want {
			t.Errorf("backoff(%d) = %v, want %v", tc.attempts, got, tc.want)
		}
	}

	// The defaults retry for well over an hour before giving up.
	if defaultGiveUpAfter < time.Hour {
		t.Errorf("default give-up %v is under an hour", defaultGiveUpAfter)
	}
}
