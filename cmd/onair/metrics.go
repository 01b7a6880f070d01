package main

import (
	"fmt"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/onair/onair/analytics"
	"github.com/onair/onair/transcode"
)

// metrics serves the Prometheus text exposition format at /metrics: the
// encoder of each live input's ladder, pictures encoded per rung, and the
// process's goroutines and memory.
type metrics struct {
	inputs *inputs

	// views, when set, gives each live input's live viewers.
	views *analytics.Collector
}

// ServeHTTP implements http.Handler.
func (m *metrics) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	var b strings.Builder

	statuses := m.inputs.transcodeStatuses()
	uids := make([]string, 0, len(statuses))

	for uid := range statuses {
		uids = append(uids, uid)
	}

	slices.Sort(uids)

	b.WriteString("# HELP onair_transcode_encoder Video encoder of a live input's ladder.\n" +
		"# TYPE onair_transcode_encoder gauge\n")

	for _, uid := range uids {
		fmt.Fprintf(&b, "onair_transcode_encoder{input=%s,encoder=%s} 1\n", quote(uid),
			quote(statuses[uid].Encoder))
	}

	b.WriteString("# HELP onair_transcode_frames_total Pictures encoded per rung.\n" +
		"# TYPE onair_transcode_frames_total counter\n")

	for _, uid := range uids {
		for _, r := range statuses[uid].Rungs {
			fmt.Fprintf(&b, "onair_transcode_frames_total{input=%s,rung=%s,encoder=%s} %d\n",
				quote(uid), quote(r.Name), quote(r.Encoder), r.Frames)
		}
	}

	if m.views != nil {
		b.WriteString("# HELP onair_live_viewers Viewer sessions of a live input active in the " +
			"last 30 s.\n# TYPE onair_live_viewers gauge\n")

		for _, uid := range uids {
			fmt.Fprintf(&b, "onair_live_viewers{input=%s} %d\n", quote(uid),
				m.views.LiveViewers(uid))
		}
	}

	var mem runtime.MemStats
	runtime.ReadMemStats(&mem)

	fmt.Fprintf(&b, "# HELP go_goroutines Goroutines that currently exist.\n"+
		"# TYPE go_goroutines gauge\ngo_goroutines %d\n", runtime.NumGoroutine())
	fmt.Fprintf(&b, "# HELP go_memstats_sys_bytes Bytes obtained from the system.\n"+
		"# TYPE go_memstats_sys_bytes gauge\ngo_memstats_sys_bytes %d\n", mem.Sys)
	fmt.Fprintf(&b, "# HELP go_memstats_heap_alloc_bytes Heap bytes allocated and in use.\n"+
		"# TYPE go_memstats_heap_alloc_bytes gauge\ngo_memstats_heap_alloc_bytes %d\n",
		mem.HeapAlloc)

	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	w.Write([]byte(b.String()))
}

// quote writes a Prometheus label value.
func quote(s string) string {
	return strconv.Quote(s)
}

// transcodeStatuses returns the transcoding status of every live input being
// transcoded, by input uid.
func (in *inputs) transcodeStatuses() map[string]transcode.Status {
	in.mu.Lock()
	defer in.mu.Unlock()

	out := make(map[string]transcode.Status, len(in.sessions))
	for uid, s := range in.sessions {
		if !s.presentation.Ended() {
			out[uid] = s.pipeline.Status()
		}
	}

	return out
}
