package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/onair/onair/store"
)

var hex32 = regexp.MustCompile(`^[0-9a-f]{32}$`)

// get walks a decoded JSON value along a dotted path.
func get(v any, path string) any {
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}

		v = m[k]
	}

	return v
}

// credentialPaths are where a live input's secrets appear in a GET.
var credentialPaths = []string{"rtmp.streamKey", "rtmpsPlayback.streamKey",
	"srt.streamId", "srt.passphrase", "srtPlayback.streamId", "srtPlayback.passphrase"}

func TestCreateDefaults(t *testing.T) {
	f := newFixture(t)

	for _, body := range []string{"", "{}", "  \n"} {
		in := f.create(body)

		want := map[string]any{
			"enabled": true, "defaultCreator": "", "deleteRecordingAfterDays": nil,
			"meta": map[string]any{}, "status": nil, "keysRotatedAt": nil,
			"recording": map[string]any{"mode": "automatic", "timeoutSeconds": 0.0,
				"requireSignedURLs": false, "allowedOrigins": []any{},
				"hideLiveViewerCount": false},
		}
		for k, v := range want {
			if !reflect.DeepEqual(in[k], v) {
				t.Errorf("body %q: %s = %#v, want %#v", body, k, in[k], v)
			}
		}

		if !hex32.MatchString(in["uid"].(string)) {
			t.Errorf("uid %q is not 32 lowercase hex", in["uid"])
		}

		if in["created"] == "" || in["created"] != in["modified"] {
			t.Errorf("created %v, modified %v", in["created"], in["modified"])
		}
	}
}

func TestLiveInputCRUD(t *testing.T) {
	f := newFixture(t)

	in := f.create(`{"meta":{"name":"studio A","n":12345678901234567890},"enabled":false,
		"defaultCreator":"alice","deleteRecordingAfterDays":45,
		"recording":{"mode":"off","timeoutSeconds":60,"requireSignedURLs":true,
		"allowedOrigins":["Example.com","*.example.org:8443"],"hideLiveViewerCount":true}}`)
	uid := in["uid"].(string)

	r := f.do("GET", inputsPath+"/"+uid, "", testToken)
	if r.status != 200 {
		t.Fatalf("get: %d %s", r.status, r.raw)
	}

	got := decodeResult(t, r)
	if !strings.Contains(string(r.env.Result), `"n":12345678901234567890`) {
		t.Errorf("meta number not kept exactly: %s", r.env.Result)
	}

	wants := map[string]any{
		"uid": uid, "enabled": false, "defaultCreator": "alice",
		"deleteRecordingAfterDays": 45.0, "meta.name": "studio A",
		"recording.mode": "off", "recording.timeoutSeconds": 60.0,
		"recording.requireSignedURLs": true, "recording.hideLiveViewerCount": true,
		"recording.allowedOrigins": []any{"example.com", "*.example.org:8443"},
		"rtmp.url":                 "rtmp://ingest.example:1935/live/",
		"rtmps.url":                "rtmps://ingest.example:1936/live/",
		"rtmpsPlayback.url":        "rtmps://ingest.example:1936/live/",
		"srt.url":                  "srt://ingest.example:8890",
		"srtPlayback.url":          "srt://ingest.example:8890",
	}
	for path, want := range wants {
		if v := get(got, path); !reflect.DeepEqual(v, want) {
			t.Errorf("%s = %#v, want %#v", path, v, want)
		}
	}

	stored, err := f.store.GetLiveInput(context.Background(), uid)
	if err != nil {
		t.Fatal(err)
	}

	secrets := map[string]string{
		"rtmp.streamKey": stored.StreamKey, "rtmps.streamKey": stored.StreamKey,
		"rtmpsPlayback.streamKey": stored.PlaybackKey,
		"srt.streamId":            stored.SRTStreamID, "srt.passphrase": stored.SRTPassphrase,
		"srtPlayback.streamId":   stored.SRTPlaybackStreamID,
		"srtPlayback.passphrase": stored.SRTPlaybackPassphrase,
	}
	for path, want := range secrets {
		if v := get(got, path); v != want || !hex32.MatchString(want) {
			t.Errorf("%s = %v, want the stored %q", path, v, want)
		}
	}

	// The list leaves every credential out.
	r = f.do("GET", inputsPath, "", testToken)

	var list liveInputListJSON
	if err := json.Unmarshal(r.env.Result, &list); err != nil {
		t.Fatal(err)
	}

	if len(list.LiveInputs) != 1 || list.LiveInputs[0].UID != uid || list.Total != 1 {
		t.Errorf("list %s, want the one input", r.env.Result)
	}

	for path, secret := range secrets {
		if strings.Contains(string(r.raw), secret) {
			t.Errorf("list shows %s", path)
		}
	}

	for _, key := range []string{`"rtmp"`, `"srt"`, `"streamKey"`, `"passphrase"`} {
		if strings.Contains(string(r.raw), key) {
			t.Errorf("list has %s: %s", key, r.raw)
		}
	}

	// Delete, then it is gone.
	r = f.do("DELETE", inputsPath+"/"+uid, "", testToken)
	if r.status != 200 || string(r.env.Result) != "null" {
		t.Fatalf("delete: %d %s", r.status, r.raw)
	}

	if f.notify.deleted[0] != uid {
		t.Errorf("InputDeleted got %v, want %s", f.notify.deleted, uid)
	}

	r = f.do("GET", inputsPath+"/"+uid, "", testToken)
	if r.status != 404 || !strings.Contains(r.message(), uid) {
		t.Errorf("get after delete: %d %q, want 404 naming the uid", r.status, r.message())
	}

	if r = f.do("DELETE", inputsPath+"/"+uid, "", testToken); r.status != 404 {
		t.Errorf("second delete: %d, want 404", r.status)
	}
}

func TestUpdatePartial(t *testing.T) {
	f := newFixture(t)
	in := f.create(`{"meta":{"name":"a"},"defaultCreator":"alice","deleteRecordingAfterDays":40,
		"recording":{"timeoutSeconds":30,"allowedOrigins":["a.com"]}}`)
	path := inputsPath + "/" + in["uid"].(string)

	tests := []struct {
		body  string
		wants map[string]any
	}{
		{`{"enabled":false}`, map[string]any{"enabled": false, "meta.name": "a",
			"defaultCreator": "alice", "deleteRecordingAfterDays": 40.0,
			"recording.timeoutSeconds": 30.0}},
		{`{"recording":{"mode":"off"}}`, map[string]any{"recording.mode": "off",
			"recording.timeoutSeconds": 30.0, "recording.allowedOrigins": []any{"a.com"},
			"enabled": false}},
		{`{"meta":{"other":1}}`, map[string]any{"meta.other": 1.0, "meta.name": nil}},
		{`{"deleteRecordingAfterDays":null}`, map[string]any{"deleteRecordingAfterDays": nil,
			"defaultCreator": "alice"}},
		{`{"recording":{"allowedOrigins":[]}}`, map[string]any{
			"recording.allowedOrigins": []any{}, "recording.mode": "off"}},
		{``, map[string]any{"enabled": false, "recording.mode": "off"}},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			r := f.do("PUT", path, tt.body, testToken)
			if r.status != 200 {
				t.Fatalf("status %d: %s", r.status, r.raw)
			}

			put := decodeResult(t, r)
			again := decodeResult(t, f.do("GET", path, "", testToken))

			for p, want := range tt.wants {
				for what, v := range map[string]any{"PUT": get(put, p), "GET": get(again, p)} {
					if !reflect.DeepEqual(v, want) {
						t.Errorf("%s: %s = %#v, want %#v", what, p, v, want)
					}
				}
			}

			if get(put, "rtmp.streamKey") != in["rtmp"].(map[string]any)["streamKey"] {
				t.Error("update changed the stream key")
			}

			if put["modified"] == in["modified"] || put["created"] != in["created"] {
				t.Errorf("created %v modified %v after update", put["created"], put["modified"])
			}
		})
	}
}

func TestValidation(t *testing.T) {
	f := newFixture(t)
	in := f.create(`{"meta":{"name":"keep"}}`)
	path := inputsPath + "/" + in["uid"].(string)
	bigMeta := fmt.Sprintf(`{"meta":{"x":"%s"}}`, strings.Repeat("a", 16<<10))

	tests := []struct {
		name, body, field string
	}{
		{"bad json", `{"enabled":`, "JSON"},
		{"trailing garbage", `{"enabled":true} x`, "JSON"},
		{"not an object", `[1,2]`, "object"},
		{"unknown field", `{"enabled":true,"colour":"red"}`, "colour"},
		{"unknown nested field", `{"recording":{"mode":"off","speed":1}}`, "recording.speed"},
		{"read-only field", `{"uid":"00000000000000000000000000000000"}`, "uid"},
		{"enabled type", `{"enabled":"yes"}`, "enabled"},
		{"enabled null", `{"enabled":null}`, "enabled"},
		{"creator type", `{"defaultCreator":5}`, "defaultCreator"},
		{"creator long", `{"defaultCreator":"` + strings.Repeat("é", 65) + `"}`,
			"defaultCreator"},
		{"meta string", `{"meta":"name"}`, "meta"},
		{"meta array", `{"meta":[1]}`, "meta"},
		{"meta null", `{"meta":null}`, "meta"},
		{"meta too big", bigMeta, "meta"},
		{"days low", `{"deleteRecordingAfterDays":29}`, "deleteRecordingAfterDays"},
		{"days fraction", `{"deleteRecordingAfterDays":30.5}`, "deleteRecordingAfterDays"},
		{"days string", `{"deleteRecordingAfterDays":"30"}`, "deleteRecordingAfterDays"},
		{"recording type", `{"recording":"off"}`, "recording"},
		{"recording null", `{"recording":null}`, "recording"},
		{"mode", `{"recording":{"mode":"manual"}}`, "recording.mode"},
		{"mode type", `{"recording":{"mode":1}}`, "recording.mode"},
		{"timeout negative", `{"recording":{"timeoutSeconds":-1}}`, "recording.timeoutSeconds"},
		{"timeout high", `{"recording":{"timeoutSeconds":3601}}`, "recording.timeoutSeconds"},
		{"timeout type", `{"recording":{"timeoutSeconds":"5"}}`, "recording.timeoutSeconds"},
		{"timeout huge", `{"recording":{"timeoutSeconds":1e400}}`, "recording.timeoutSeconds"},
		{"signed type", `{"recording":{"requireSignedURLs":1}}`, "recording.requireSignedURLs"},
		{"hide type", `{"recording":{"hideLiveViewerCount":"no"}}`,
			"recording.hideLiveViewerCount"},
		{"origins type", `{"recording":{"allowedOrigins":"a.com"}}`, "recording.allowedOrigins"},
		{"origins entry type", `{"recording":{"allowedOrigins":[1]}}`,
			"recording.allowedOrigins"},
		{"origin scheme", `{"recording":{"allowedOrigins":["https://a.com"]}}`,
			"recording.allowedOrigins[0]"},
		{"origin path", `{"recording":{"allowedOrigins":["a.com","b.com/x"]}}`,
			"recording.allowedOrigins[1]"},
		{"origin star", `{"recording":{"allowedOrigins":["*"]}}`, "recording.allowedOrigins[0]"},
		{"origin empty", `{"recording":{"allowedOrigins":[""]}}`, "recording.allowedOrigins[0]"},
		{"origin inner star", `{"recording":{"allowedOrigins":["a.*.com"]}}`,
			"recording.allowedOrigins[0]"},
		{"origin space", `{"recording":{"allowedOrigins":["a .com"]}}`,
			"recording.allowedOrigins[0]"},
		{"origin port", `{"recording":{"allowedOrigins":["a.com:70000"]}}`,
			"recording.allowedOrigins[0]"},
		{"origin long", `{"recording":{"allowedOrigins":["` + strings.Repeat("a.", 127) + `com"]}}`,
			"recording.allowedOrigins[0]"},
		// A valid field beside a bad one must not be applied either.
		{"half valid", `{"enabled":false,"meta":{"name":"changed"},"recording":{"mode":"x"}}`,
			"recording.mode"},
	}
	for _, tt := range tests {
		for _, method := range []string{"POST", "PUT"} {
			t.Run(method+" "+tt.name, func(t *testing.T) {
				target := inputsPath
				if method == "PUT" {
					target = path
				}

				r := f.do(method, target, tt.body, testToken)
				if r.status != http.StatusBadRequest {
					t.Fatalf("status %d, want 400: %s", r.status, r.raw)
				}

				if !strings.Contains(r.message(), tt.field) {
					t.Errorf("message %q does not name %s", r.message(), tt.field)
				}

				if r.env.Errors[0].Code != CodeBadRequest {
					t.Errorf("code %d, want %d", r.env.Errors[0].Code, CodeBadRequest)
				}
			})
		}
	}

	// Nothing was created or changed by any of them.
	list, err := f.store.ListLiveInputs(context.Background())
	if err != nil {
		t.Fatal(err)
	}

	if len(list) != 1 {
		t.Errorf("%d live inputs after refused creates, want 1", len(list))
	}

	got := decodeResult(t, f.do("GET", path, "", testToken))
	if got["enabled"] != true || get(got, "meta.name") != "keep" ||
		got["modified"] != in["modified"] {
		t.Errorf("refused updates changed the input: %v", got)
	}

	if len(f.notify.changed) != 1 {
		t.Errorf("Notify called %d times, want once (the create)", len(f.notify.changed))
	}
}

func TestBodyLimits(t *testing.T) {
	f := newFixture(t)
	path := inputsPath + "/" + f.create("")["uid"].(string)

	huge := `{"meta":{"x":"` + strings.Repeat("a", maxBodyBytes) + `"}}`
	justUnder := `{"meta":{"x":"` + strings.Repeat("a", maxMetaBytes-20) + `"}}` +
		strings.Repeat(" ", maxBodyBytes-maxMetaBytes)

	tests := []struct {
		name, method, path, body string
		want                     int
	}{
		{"create over 1 MiB", "POST", inputsPath, huge, 413},
		{"update over 1 MiB", "PUT", path, huge, 413},
		{"meta at limit, body padded to 1 MiB", "PUT", path, justUnder, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.do(tt.method, tt.path, tt.body, testToken)
			if r.status != tt.want {
				t.Errorf("status %d, want %d: %.200s", r.status, tt.want, r.raw)
			}

			if tt.want == 413 && r.env.Errors[0].Code != CodeTooLarge {
				t.Errorf("code %d, want %d", r.env.Errors[0].Code, CodeTooLarge)
			}
		})
	}
}

func TestRotateKeys(t *testing.T) {
	f := newFixture(t)
	before := decodeResult(t, f.do("GET", inputsPath+"/"+f.create("")["uid"].(string), "",
		testToken))
	uid := before["uid"].(string)

	r := f.do("POST", inputsPath+"/"+uid+"/rotate_keys", "", testToken)
	if r.status != 200 {
		t.Fatalf("rotate: %d %s", r.status, r.raw)
	}

	after := decodeResult(t, r)
	for _, p := range credentialPaths {
		if get(after, p) == get(before, p) || !hex32.MatchString(get(after, p).(string)) {
			t.Errorf("%s not rotated: %v", p, get(after, p))
		}
	}

	n := f.notify.last(t)
	if n.UID != uid || n.StreamKey != get(after, "rtmp.streamKey") ||
		n.SRTPassphrase != get(after, "srt.passphrase") {
		t.Errorf("Notify got %v with other keys than the response", n.UID)
	}

	if _, err := f.store.LiveInputByStreamKey(context.Background(),
		get(before, "rtmp.streamKey").(string)); err == nil {
		t.Error("old stream key still opens the input")
	}

	stored := decodeResult(t, f.do("GET", inputsPath+"/"+uid, "", testToken))
	if get(stored, "srtPlayback.streamId") != get(after, "srtPlayback.streamId") {
		t.Error("rotated keys not stored")
	}

	if at := stored["keysRotatedAt"]; at == nil || at != after["keysRotatedAt"] ||
		at != after["modified"] {
		t.Errorf("keysRotatedAt %v, want the rotation's time %v", at, after["modified"])
	}
}

func TestNotify(t *testing.T) {
	f := newFixture(t)
	uid := f.create("")["uid"].(string)

	if n := f.notify.last(t); n.UID != uid || !n.Enabled {
		t.Errorf("create notified %s enabled %v", n.UID, n.Enabled)
	}

	f.do("PUT", inputsPath+"/"+uid, `{"enabled":false}`, testToken)

	if n := f.notify.last(t); n.UID != uid || n.Enabled {
		t.Errorf("disable notified %s enabled %v, want disabled", n.UID, n.Enabled)
	}

	f.do("DELETE", inputsPath+"/"+uid, "", testToken)

	if len(f.notify.deleted) != 1 || f.notify.deleted[0] != uid {
		t.Errorf("delete notified %v, want [%s]", f.notify.deleted, uid)
	}

	// A nil Notify is a no-op.
	f.srv.Notify = nil
	h := httptest.NewServer(f.srv.Handler())
	defer h.Close()

	f.http = h
	uid = f.create("")["uid"].(string)

	if r := f.do("PUT", inputsPath+"/"+uid, `{"enabled":false}`, testToken); r.status != 200 {
		t.Errorf("update without Notify: %d", r.status)
	}
}

func TestURLBlocks(t *testing.T) {
	tests := []struct {
		name  string
		urls  URLs
		wants map[string]any
	}{
		{"all off", URLs{IngestHost: "h"}, map[string]any{"rtmp": nil, "rtmps": nil,
			"rtmpsPlayback": nil, "srt": nil, "srtPlayback": nil}},
		{"rtmp only", URLs{IngestHost: "h", RTMPPort: 1}, map[string]any{
			"rtmp.url": "rtmp://h:1/live/", "rtmps": nil, "srt": nil}},
		{"ipv6", URLs{IngestHost: "::1", SRTPort: 9000}, map[string]any{
			"srt.url": "srt://[::1]:9000", "rtmp": nil}},
		{"host from public url", URLs{PublicURL: "https://tv.example:8443/x", RTMPSPort: 443},
			map[string]any{"rtmps.url": "rtmps://tv.example:443/live/"}},
		{"no host at all", URLs{RTMPPort: 1935},
			map[string]any{"rtmp.url": "rtmp://localhost:1935/live/"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.srv.URLs = tt.urls
			f.http = httptest.NewServer(f.srv.Handler())
			defer f.http.Close()

			got := f.create("")
			for p, want := range tt.wants {
				v, present := any(nil), false
				if m, ok := got[p]; ok || !strings.Contains(p, ".") {
					v, present = m, ok
				} else {
					v, present = get(got, p), true
				}

				if !present || !reflect.DeepEqual(v, want) {
					t.Errorf("%s = %#v (present %v), want %#v", p, v, present, want)
				}
			}
		})
	}
}

func TestStatusAndTranscode(t *testing.T) {
	f := newFixture(t)
	uid := f.create("")["uid"].(string)
	other := f.create("")["uid"].(string)

	err := f.store.SetLiveInputStatus(context.Background(), uid, store.StateConnected,
		"publisher connected over rtmp")
	if err != nil {
		t.Fatal(err)
	}

	f.srv.Live = &liveInfo{uid: uid, info: map[string]any{"encoder": "libx264"}}
	f.http = httptest.NewServer(f.srv.Handler())
	defer f.http.Close()

	got := decodeResult(t, f.do("GET", inputsPath+"/"+uid, "", testToken))

	wants := map[string]any{
		"status.current.state":  "connected",
		"status.current.reason": "publisher connected over rtmp",
		"transcode.encoder":     "libx264",
	}
	for p, want := range wants {
		if v := get(got, p); v != want {
			t.Errorf("%s = %#v, want %#v", p, v, want)
		}
	}

	if at, _ := get(got, "status.current.statusEnteredAt").(string); !regexp.MustCompile(
		`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$`).MatchString(at) {
		t.Errorf("statusEnteredAt %q is not RFC 3339 UTC", at)
	}

	plain := decodeResult(t, f.do("GET", inputsPath+"/"+other, "", testToken))
	if _, ok := plain["transcode"]; ok {
		t.Error("transcode present although LiveInfo returned nil")
	}

	if v, ok := plain["status"]; !ok || v != nil {
		t.Errorf("status of a never-connected input = %#v, want null", v)
	}

	r := f.do("GET", inputsPath, "", testToken)
	if strings.Contains(string(r.raw), "transcode") {
		t.Error("list carries transcode")
	}

	if !strings.Contains(string(r.raw), `"state":"connected"`) {
		t.Errorf("list lacks the status: %s", r.raw)
	}
}

func TestErrorsStayShort(t *testing.T) {
	f := newFixture(t)
	long := strings.Repeat("x", 100<<10)

	tests := []struct {
		name, method, path, body string
	}{
		{"unknown field", "POST", inputsPath, `{"` + long + `":1}`},
		{"mode", "POST", inputsPath, `{"recording":{"mode":"` + long + `"}}`},
		{"origin", "POST", inputsPath, `{"recording":{"allowedOrigins":["` + long + `"]}}`},
		{"number", "POST", inputsPath, `{"enabled":1` + strings.Repeat("0", 10000) + `}`},
		{"uid", "GET", inputsPath + "/" + long[:4000], ""},
		{"route", "GET", inputsPath + "/" + long[:4000] + "/x", ""},
		{"method", "PATCH", inputsPath + "/" + long[:4000], ""},
		{"account", "GET", "/client/v4/accounts/" + long[:4000] + "/stream/live_inputs", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.do(tt.method, tt.path, tt.body, testToken)
			if r.status < 400 || len(r.message()) > 400 {
				t.Errorf("status %d, message of %d bytes: %.100s", r.status, len(r.message()),
					r.message())
			}
		})
	}
}
