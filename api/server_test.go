package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/onair/onair/store"
)

const (
	testAccount = "0123456789abcdef0123456789abcdef"
	testToken   = "test-token-Sn3lZJTBX6kkg7OdcBUAx"
	inputsPath  = "/client/v4/accounts/" + testAccount + "/stream/live_inputs"
)

// notifications records what the server told its Notifier.
type notifications struct {
	mu      sync.Mutex
	changed []store.LiveInput
	deleted []string
}

func (n *notifications) InputChanged(in *store.LiveInput) {
	n.mu.Lock()
	defer n.mu.Unlock()

	n.changed = append(n.changed, *in)
}

func (n *notifications) InputDeleted(uid string) {
	n.mu.Lock()
	defer n.mu.Unlock()

	n.deleted = append(n.deleted, uid)
}

func (n *notifications) last(t *testing.T) store.LiveInput {
	t.Helper()
	n.mu.Lock()
	defer n.mu.Unlock()

	if len(n.changed) == 0 {
		t.Fatal("Notify.InputChanged was not called")
	}

	return n.changed[len(n.changed)-1]
}

// liveInfo answers LiveInfo with a fixed value for one uid.
type liveInfo struct {
	uid  string
	info any
}

func (l *liveInfo) LiveInfo(uid string) any {
	if uid == l.uid {
		return l.info
	}

	return nil
}

type fixture struct {
	t      *testing.T
	srv    *Server
	store  *store.Store
	http   *httptest.Server
	notify *notifications
}

func newFixture(t *testing.T) *fixture {
	t.Helper()

	st, err := store.Open(filepath.Join(t.TempDir(), "onair.db"))
	if err != nil {
		t.Fatal(err)
	}

	t.Cleanup(func() { st.Close() })

	f := &fixture{t: t, store: st, notify: &notifications{}}
	f.srv = &Server{
		Store: st, AccountID: testAccount, Token: testToken, Notify: f.notify,
		Outputs: st,
		URLs: URLs{IngestHost: "ingest.example", RTMPPort: 1935, RTMPSPort: 1936,
			SRTPort: 8890, PublicURL: "http://play.example:8080"},
	}
	f.http = httptest.NewServer(f.srv.Handler())
	t.Cleanup(f.http.Close)

	return f
}

// response is one answer, its envelope decoded strictly.
type response struct {
	status int
	header http.Header
	raw    []byte
	env    struct {
		Result   json.RawMessage `json:"result"`
		Success  *bool           `json:"success"`
		Errors   []envelopeItem  `json:"errors"`
		Messages []envelopeItem  `json:"messages"`
	}
}

// do sends a request with the test token; token "" sends none.
func (f *fixture) do(method, path, body, token string) *response {
	f.t.Helper()

	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}

	req, err := http.NewRequest(method, f.http.URL+path, rd)
	if err != nil {
		f.t.Fatal(err)
	}

	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}

	res, err := f.http.Client().Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer res.Body.Close()

	r := &response{status: res.StatusCode, header: res.Header}
	if r.raw, err = io.ReadAll(res.Body); err != nil {
		f.t.Fatal(err)
	}

	checkEnvelope(f.t, method+" "+path, r)

	return r
}

// checkEnvelope fails unless r's body is the standard envelope, consistent
// with its status.
func checkEnvelope(t *testing.T, what string, r *response) {
	t.Helper()

	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s: content type %q, want application/json", what, ct)
	}

	d := json.NewDecoder(bytes.NewReader(r.raw))
	d.DisallowUnknownFields()

	if err := d.Decode(&r.env); err != nil {
		t.Fatalf("%s: body %q is not the envelope: %v", what, r.raw, err)
	}

	ok := r.status < 300
	if r.env.Success == nil || *r.env.Success != ok || r.env.Errors == nil ||
		r.env.Messages == nil || r.env.Result == nil {
		t.Errorf("%s: status %d with envelope %s", what, r.status, r.raw)
	}

	if ok != (len(r.env.Errors) == 0) {
		t.Errorf("%s: status %d with errors %v", what, r.status, r.env.Errors)
	}

	for _, e := range r.env.Errors {
		if e.Code == 0 || e.Message == "" {
			t.Errorf("%s: error %+v lacks a code or message", what, e)
		}
	}
}

// message is the first error's message.
func (r *response) message() string {
	if len(r.env.Errors) == 0 {
		return ""
	}

	return r.env.Errors[0].Message
}

func (f *fixture) create(body string) map[string]any {
	f.t.Helper()

	r := f.do("POST", inputsPath, body, testToken)
	if r.status != http.StatusOK {
		f.t.Fatalf("create: status %d: %s", r.status, r.raw)
	}

	return decodeResult(f.t, r)
}

func decodeResult(t *testing.T, r *response) map[string]any {
	t.Helper()

	var m map[string]any
	if err := json.Unmarshal(r.env.Result, &m); err != nil {
		t.Fatalf("result %s: %v", r.env.Result, err)
	}

	return m
}

func TestAuth(t *testing.T) {
	f := newFixture(t)

	tests := []struct {
		name   string
		header string
		path   string
		want   int
	}{
		{"none", "", inputsPath, 401},
		{"wrong token", "Bearer nope", inputsPath, 401},
		{"token prefix", "Bearer " + testToken[:10], inputsPath, 401},
		{"token longer", "Bearer " + testToken + "x", inputsPath, 401},
		{"basic scheme", "Basic " + testToken, inputsPath, 401},
		{"no scheme", testToken, inputsPath, 401},
		{"unknown route", "", "/client/v4/nothing", 401},
		{"right", "Bearer " + testToken, inputsPath, 200},
		{"scheme case", "bearer " + testToken, inputsPath, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest("GET", f.http.URL+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}

			if tt.header != "" {
				req.Header.Set("Authorization", tt.header)
			}

			res, err := f.http.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()

			r := &response{status: res.StatusCode, header: res.Header}
			r.raw, _ = io.ReadAll(res.Body)
			checkEnvelope(t, tt.name, r)

			if r.status != tt.want {
				t.Errorf("status %d, want %d", r.status, tt.want)
			}

			if tt.want == 401 && res.Header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}

			if strings.Contains(string(r.raw), testToken) {
				t.Error("response shows the token")
			}
		})
	}
}

func TestEmptyTokenRefusesAll(t *testing.T) {
	f := newFixture(t)
	f.srv.Token = ""
	h := httptest.NewServer(f.srv.Handler())
	defer h.Close()

	for _, header := range []string{"", "Bearer ", "Bearer  "} {
		req, _ := http.NewRequest("GET", h.URL+inputsPath, nil)
		req.Header.Set("Authorization", header)

		res, err := h.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}

		res.Body.Close()

		if res.StatusCode != 401 {
			t.Errorf("header %q with no token configured: status %d, want 401", header,
				res.StatusCode)
		}
	}
}

func TestRoutes(t *testing.T) {
	f := newFixture(t)
	uid := f.create("")["uid"].(string)
	other := "/client/v4/accounts/ffffffffffffffffffffffffffffffff/stream/live_inputs"

	tests := []struct {
		method, path string
		want         int
		allow        string
	}{
		{"GET", inputsPath, 200, ""},
		{"GET", inputsPath + "/" + uid, 200, ""},
		{"GET", "/client/v4/nothing", 404, ""},
		{"GET", "/elsewhere", 404, ""},
		{"GET", "/client/v4//accounts/" + testAccount + "/stream/live_inputs", 404, ""},
		{"GET", inputsPath + "/../live_inputs", 404, ""},
		{"GET", inputsPath + "/./" + uid, 404, ""},
		{"GET", inputsPath + "/", 404, ""},
		{"GET", inputsPath + "/" + uid + "/nothing", 404, ""},
		{"GET", inputsPath + "/00000000000000000000000000000000", 404, ""},
		{"GET", inputsPath + "/not-a-uid", 404, ""},
		{"DELETE", inputsPath + "/00000000000000000000000000000000", 404, ""},
		{"POST", inputsPath + "/00000000000000000000000000000000/rotate_keys", 404, ""},
		{"PUT", inputsPath + "/00000000000000000000000000000000", 404, ""},
		{"GET", other, 403, ""},
		{"POST", other, 403, ""},
		{"GET", other + "/" + uid, 403, ""},
		{"DELETE", inputsPath, 405, "GET, POST"},
		{"PATCH", inputsPath + "/" + uid, 405, "DELETE, GET, PUT"},
		{"GET", inputsPath + "/" + uid + "/rotate_keys", 405, "POST"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			r := f.do(tt.method, tt.path, "", testToken)
			if r.status != tt.want {
				t.Fatalf("status %d, want %d: %s", r.status, tt.want, r.raw)
			}

			if got := r.header.Get("Allow"); got != tt.allow {
				t.Errorf("Allow %q, want %q", got, tt.allow)
			}

			if tt.want == 404 && strings.Contains(tt.path, "0000000000") &&
				!strings.Contains(r.message(), "not found") {
				t.Errorf("404 message %q does not say not found", r.message())
			}
		})
	}

	if _, err := f.store.GetLiveInput(context.Background(), uid); err != nil {
		t.Errorf("input gone after refused requests: %v", err)
	}
}

func TestServerFault(t *testing.T) {
	f := newFixture(t)
	f.store.Close()

	r := f.do("GET", inputsPath, "", testToken)
	if r.status != http.StatusInternalServerError {
		t.Errorf("status %d with the store closed, want 500", r.status)
	}

	if strings.Contains(r.message(), "sql") {
		t.Errorf("500 message %q leaks internals", r.message())
	}
}

func TestPanicRecovered(t *testing.T) {
	s := &Server{Store: panicStore{}, AccountID: testAccount, Token: testToken}
	h := httptest.NewServer(s.Handler())
	defer h.Close()

	req, _ := http.NewRequest("GET", h.URL+inputsPath, nil)
	req.Header.Set("Authorization", "Bearer "+testToken)

	res, err := h.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()

	r := &response{status: res.StatusCode, header: res.Header}
	r.raw, _ = io.ReadAll(res.Body)
	checkEnvelope(t, "panic", r)

	if r.status != 500 {
		t.Errorf("status %d, want 500", r.status)
	}
}

// panicStore is a Store whose every method panics.
type panicStore struct{ Store }

func (panicStore) ListLiveInputs(context.Context) ([]*store.LiveInput, error) {
	panic("boom")
}
