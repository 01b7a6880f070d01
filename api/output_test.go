package api

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// runner records OutputsChanged calls and reports a fixed live status.
type runner struct {
	mu      sync.Mutex
	changed []string
	live    map[string]OutputStatus
}

func (r *runner) OutputsChanged(inputUID string) {
	r.mu.Lock()
	defer r.mu.Unlock()

	r.changed = append(r.changed, inputUID)
}

func (r *runner) OutputStatus(_, outputUID string) (OutputStatus, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()

	s, ok := r.live[outputUID]

	return s, ok
}

func (r *runner) calls() int {
	r.mu.Lock()
	defer r.mu.Unlock()

	return len(r.changed)
}

func outputsPath(uid string) string {
	return inputsPath + "/" + uid + "/outputs"
}

func TestOutputCRUD(t *testing.T) {
	f := newFixture(t)
	run := &runner{live: map[string]OutputStatus{}}
	f.srv.Restream = run
	uid := f.create("")["uid"].(string)

	r := f.do("POST", outputsPath(uid),
		`{"url":"rtmp://a.rtmp.example/live2","streamKey":"sekrit-key"}`, testToken)
	if r.status != http.StatusOK {
		t.Fatalf("create: %d %s", r.status, r.raw)
	}

	created := decodeResult(t, r)
	ouid, _ := created["uid"].(string)

	if !hex32.MatchString(ouid) || created["streamKey"] != "sekrit-key" ||
		created["enabled"] != true || get(created, "status.current.state") != "disconnected" {
		t.Errorf("created %s", r.env.Result)
	}

	if run.calls() != 1 {
		t.Errorf("OutputsChanged called %d times after create, want 1", run.calls())
	}

	run.live[ouid] = OutputStatus{State: "connected", Since: time.Now(), DroppedUnits: 7}

	r = f.do("GET", outputsPath(uid), "", testToken)
	if r.status != http.StatusOK || strings.Contains(string(r.raw), "sekrit") {
		t.Fatalf("list: %d %s", r.status, r.raw)
	}

	if !strings.Contains(string(r.raw), `"state":"connected"`) ||
		!strings.Contains(string(r.raw), `"droppedUnits":7`) {
		t.Errorf("list does not show the live status: %s", r.raw)
	}

	r = f.do("PUT", outputsPath(uid)+"/"+ouid,
		`{"enabled":false,"url":"rtmp://a.rtmp.example/live2"}`, testToken)
	if r.status != http.StatusOK {
		t.Fatalf("disable: %d %s", r.status, r.raw)
	}

	updated := decodeResult(t, r)
	if updated["enabled"] != false || updated["streamKey"] != nil ||
		get(updated, "status.current.reason") != reasonOutputDisabled {
		t.Errorf("updated %s", r.env.Result)
	}

	r = f.do("DELETE", outputsPath(uid)+"/"+ouid, "", testToken)
	if r.status != http.StatusOK {
		t.Fatalf("delete: %d %s", r.status, r.raw)
	}

	r = f.do("DELETE", outputsPath(uid)+"/"+ouid, "", testToken)
	if r.status != http.StatusNotFound {
		t.Errorf("second delete: %d, want 404", r.status)
	}

	if run.calls() != 3 {
		t.Errorf("OutputsChanged called %d times, want 3", run.calls())
	}
}

func TestOutputValidation(t *testing.T) {
	f := newFixture(t)
	uid := f.create("")["uid"].(string)

	r := f.do("POST", outputsPath(uid), `{"url":"srt://127.0.0.1:9000?passphrase=abcdefghijk"}`,
		testToken)
	if r.status != http.StatusOK {
		t.Fatalf("create srt: %d %s", r.status, r.raw)
	}

	srtUID := decodeResult(t, r)["uid"].(string)

	tests := []struct {
		name, method, path, body string
		status                   int
		field                    string // the message must name it
	}{
		{"no body", "POST", outputsPath(uid), "", 400, "url"},
		{"no url", "POST", outputsPath(uid), `{"streamKey":"k"}`, 400, "url"},
		{"url not a string", "POST", outputsPath(uid), `{"url":5}`, 400, "url"},
		{"http scheme", "POST", outputsPath(uid), `{"url":"http://x/live","streamKey":"k"}`,
			400, "url"},
		{"no host", "POST", outputsPath(uid), `{"url":"rtmp:///live","streamKey":"k"}`, 400, "url"},
		{"no app", "POST", outputsPath(uid), `{"url":"rtmp://x","streamKey":"k"}`, 400, "url"},
		{"no key", "POST", outputsPath(uid), `{"url":"rtmp://x/live"}`, 400, "streamKey"},
		{"bad port", "POST", outputsPath(uid), `{"url":"rtmp://x:70000/live","streamKey":"k"}`,
			400, "url"},
		{"srt without port", "POST", outputsPath(uid), `{"url":"srt://x"}`, 400, "url"},
		{"srt unknown query", "POST", outputsPath(uid), `{"url":"srt://x:1?foo=1"}`, 400, "url"},
		{"srt short passphrase", "POST", outputsPath(uid), `{"url":"srt://x:1","streamKey":"s"}`,
			400, "streamKey"},
		{"skip verify on rtmp", "POST", outputsPath(uid),
			`{"url":"rtmp://x/live","streamKey":"k","tlsSkipVerify":true}`, 400, "tlsSkipVerify"},
		{"enabled not a bool", "POST", outputsPath(uid),
			`{"url":"rtmp://x/live","streamKey":"k","enabled":"yes"}`, 400, "enabled"},
		{"unknown field", "POST", outputsPath(uid),
			`{"url":"rtmp://x/live","streamKey":"k","color":1}`, 400, "color"},
		{"missing input", "POST", outputsPath(strings.Repeat("0", 32)),
			`{"url":"rtmp://x/live","streamKey":"k"}`, 404, ""},
		{"list of missing input", "GET", outputsPath(strings.Repeat("0", 32)), "", 404, ""},
		{"url changed", "PUT", outputsPath(uid) + "/" + srtUID, `{"url":"srt://y:1"}`, 400, "url"},
		{"key changed", "PUT", outputsPath(uid) + "/" + srtUID, `{"streamKey":"k"}`, 400,
			"streamKey"},
		{"unknown update field", "PUT", outputsPath(uid) + "/" + srtUID, `{"name":"x"}`, 400,
			"name"},
		{"missing output", "PUT", outputsPath(uid) + "/" + strings.Repeat("0", 32),
			`{"enabled":true}`, 404, ""},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.do(tt.method, tt.path, tt.body, testToken)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.raw)
			}

			if !strings.Contains(r.message(), tt.field) {
				t.Errorf("message %q does not name %q", r.message(), tt.field)
			}
		})
	}

	r = f.do("GET", outputsPath(uid), "", testToken)
	if strings.Contains(string(r.raw), "abcdefghijk") || !strings.Contains(string(r.raw), "REDACTED") {
		t.Errorf("list shows the srt passphrase: %s", r.raw)
	}

	// Sending back the listed (redacted) url is not a change.
	r = f.do("PUT", outputsPath(uid)+"/"+srtUID,
		`{"enabled":false,"url":"srt://127.0.0.1:9000?passphrase=REDACTED"}`, testToken)
	if r.status != http.StatusOK {
		t.Errorf("update with the listed url: %d %s", r.status, r.raw)
	}
}

func TestOutputLimit(t *testing.T) {
	f := newFixture(t)
	uid := f.create("")["uid"].(string)

	for i := range 50 {
		body := fmt.Sprintf(`{"url":"rtmp://127.0.0.1:%d/live","streamKey":"k"}`, i+1)
		if r := f.do("POST", outputsPath(uid), body, testToken); r.status != http.StatusOK {
			t.Fatalf("output %d: %d %s", i+1, r.status, r.raw)
		}
	}

	r := f.do("POST", outputsPath(uid), `{"url":"rtmp://127.0.0.1/live","streamKey":"k"}`,
		testToken)
	if r.status != http.StatusConflict || !strings.Contains(r.message(), "50") {
		t.Errorf("output 51: %d %s, want 409 naming the limit", r.status, r.raw)
	}

	if r := f.do("DELETE", inputsPath+"/"+uid, "", testToken); r.status != http.StatusOK {
		t.Fatalf("delete input: %d", r.status)
	}

	if r := f.do("GET", outputsPath(uid), "", testToken); r.status != http.StatusNotFound {
		t.Errorf("outputs of a deleted input: %d, want 404", r.status)
	}
}
