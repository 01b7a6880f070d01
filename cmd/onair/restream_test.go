package main

import (
	"strings"
	"testing"
	"time"
)

// output is the part of the API's output this test reads.
type output struct {
	UID       string  `json:"uid"`
	URL       string  `json:"url"`
	StreamKey *string `json:"streamKey"`
	Enabled   bool    `json:"enabled"`
	Status    struct {
		Current struct {
			State  string `json:"state"`
			Reason string `json:"reason"`
		} `json:"current"`
	} `json:"status"`
}

// waitOutput polls the outputs of an input until one reaches state.
func (n *testNode) waitOutput(t *testing.T, inputUID, uid, state string) output {
	t.Helper()

	deadline := time.Now().Add(30 * time.Second)

	for {
		var list []output
		if code := n.call(t, "GET", "/stream/live_inputs/"+inputUID+"/outputs", nil,
			&list); code != 200 {
			t.Fatalf("list outputs: status %d", code)
		}

		for _, o := range list {
			if o.UID == uid && o.Status.Current.State == state {
				return o
			}
		}

		if time.Now().After(deadline) {
			t.Fatalf("output %s never reached %q: %+v", uid, state, list)
		}

		time.Sleep(100 * time.Millisecond)
	}
}

// TestRestreamToAnotherNode pushes one node's live input to a second node's
// live input through the outputs API, and follows disable, enable and delete.
func TestRestreamToAnotherNode(t *testing.T) {
	a, b := startNode(t), startNode(t)
	src, dst := a.createInput(t), b.createInput(t)
	path := "/stream/live_inputs/" + src.UID + "/outputs"

	var o output

	code := a.call(t, "POST", path, map[string]any{"url": strings.TrimSuffix(b.rtmp, "/"),
		"streamKey": dst.RTMP.StreamKey}, &o)
	if code != 200 || o.StreamKey == nil || *o.StreamKey != dst.RTMP.StreamKey {
		t.Fatalf("create output: status %d, %+v", code, o)
	}

	args := append(lavfi(true, true, 60), "-c:v", "libx264", "-preset", "ultrafast",
		"-g", "25", "-c:a", "aac", "-f", "flv", a.rtmp+src.RTMP.StreamKey)
	startFFmpeg(t, args...)

	a.waitState(t, src.UID, "connected")
	b.waitState(t, dst.UID, "connected")

	listed := a.waitOutput(t, src.UID, o.UID, "connected")
	if listed.StreamKey != nil {
		t.Errorf("the list shows the stream key")
	}

	waitVariants(t, a.base+"/"+src.UID+"/manifest/video.m3u8", 1, 2)

	// The second node turns the pushed stream into its own HLS.
	waitVariants(t, b.base+"/"+dst.UID+"/manifest/video.m3u8", 1, 2)

	steps := []struct {
		method string
		body   any
		want   string // the second node's input state afterwards
	}{
		{"PUT", map[string]any{"enabled": false}, "client_disconnect"},
		{"PUT", map[string]any{"enabled": true}, "connected"},
		{"DELETE", nil, "client_disconnect"},
	}

	for _, s := range steps {
		if code := a.call(t, s.method, path+"/"+o.UID, s.body, nil); code != 200 {
			t.Fatalf("%s %v: status %d", s.method, s.body, code)
		}

		b.waitState(t, dst.UID, s.want)
	}

	a.waitState(t, src.UID, "connected")
}
