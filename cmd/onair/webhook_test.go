package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// hookReceiver is a webhook endpoint that keeps the data of every delivery
// whose signature matches the secret.
type hookReceiver struct {
	srv *httptest.Server

	mu     sync.Mutex
	secret string
	events []map[string]any
	bad    int
}

func newHookReceiver(t *testing.T) *hookReceiver {
	h := &hookReceiver{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)

		h.mu.Lock()
		defer h.mu.Unlock()

		var ts, sig string
		for _, kv := range strings.Split(r.Header.Get("Webhook-Signature"), ",") {
			k, v, _ := strings.Cut(kv, "=")
			if k == "time" {
				ts = v
			} else if k == "sig1" {
				sig = v
			}
		}

		mac := hmac.New(sha256.New, []byte(h.secret))
		mac.Write([]byte(ts + "." + string(body)))

		if sig == "" || sig != hex.EncodeToString(mac.Sum(nil)) {
			h.bad++
			w.WriteHeader(http.StatusUnauthorized)

			return
		}

		var ev struct {
			Data map[string]any `json:"data"`

			// A recording that became ready is sent as the video object.
			UID       string `json:"uid"`
			LiveInput string `json:"liveInput"`
			Status    struct {
				State string `json:"state"`
			} `json:"status"`
		}

		json.Unmarshal(body, &ev)

		if ev.Data == nil && ev.UID != "" {
			ev.Data = map[string]any{"input_id": ev.LiveInput, "event_type": "video " +
				ev.Status.State, "video_uid": ev.UID}
		}

		h.events = append(h.events, ev.Data)
	}))
	t.Cleanup(h.srv.Close)

	return h
}

// of returns the event types received for input uid, in order.
func (h *hookReceiver) of(uid string) ([]string, []map[string]any) {
	h.mu.Lock()
	defer h.mu.Unlock()

	var types []string
	var data []map[string]any

	for _, d := range h.events {
		if d["input_id"] == uid {
			types = append(types, d["event_type"].(string))
			data = append(data, d)
		}
	}

	return types, data
}

func (h *hookReceiver) waitFor(t *testing.T, uid string, n int) ([]string, []map[string]any) {
	t.Helper()

	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if types, data := h.of(uid); len(types) >= n {
			return types, data
		}

		time.Sleep(50 * time.Millisecond)
	}

	types, _ := h.of(uid)
	t.Fatalf("input %s: webhook events %q, want %d (bad signatures: %d)", uid, types, n, h.bad)

	return nil, nil
}

func TestWebhookEvents(t *testing.T) {
	n := startNode(t)
	rcv := newHookReceiver(t)

	var hook struct {
		Secret string `json:"secret"`
	}

	if code := n.call(t, "PUT", "/stream/webhook",
		map[string]any{"notificationUrl": rcv.srv.URL + "/onair"}, &hook); code != 200 {
		t.Fatalf("PUT webhook: status %d", code)
	}

	rcv.mu.Lock()
	rcv.secret = hook.Secret
	rcv.mu.Unlock()

	t.Run("connected and disconnected", func(t *testing.T) {
		li := n.createInput(t)
		pub := startFFmpeg(t, "-re", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=3",
			"-c:v", "libx264", "-preset", "ultrafast", "-f", "flv", n.rtmp+li.RTMP.StreamKey)

		if err := pub.wait(t); err != nil {
			t.Fatalf("publisher: %v\n%s", err, pub.out.String())
		}

		// The recording becomes ready as the broadcast ends: its event may
		// come before or after the disconnection.
		types, data := rcv.waitFor(t, li.UID, 3)

		var live []string
		var video string

		for i, ty := range types {
			if ty == "video ready" {
				video, _ = data[i]["video_uid"].(string)
			} else {
				live = append(live, ty)
			}
		}

		if strings.Join(live, " ") != "live_input.connected live_input.disconnected" {
			t.Errorf("events %q, want connected then disconnected", types)
		}

		if vs := n.videos(t, li.UID); video == "" || len(vs) != 1 || vs[0].UID != video {
			t.Errorf("events %q name video %q; the input's videos are %+v", types, video, vs)
		}
	})

	t.Run("errored", func(t *testing.T) {
		li := n.createInput(t)
		pub := startFFmpeg(t, "-re", "-f", "lavfi", "-i", "sine=duration=3", "-c:a", "libmp3lame",
			"-f", "flv", n.rtmp+li.RTMP.StreamKey)
		pub.wait(t)

		types, data := rcv.waitFor(t, li.UID, 1)
		if types[0] != "live_input.errored" {
			t.Fatalf("events %q, want live_input.errored", types)
		}

		e, _ := data[0]["live_input_errored"].(map[string]any)
		inner, _ := e["error"].(map[string]any)

		if inner["code"] != "ERR_UNSUPPORTED_AUDIO_CODEC" {
			t.Errorf("errored event %v, want code ERR_UNSUPPORTED_AUDIO_CODEC", data[0])
		}
	})
}
