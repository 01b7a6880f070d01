package playbench

import (
	"fmt"
	"io"
	"strconv"
	"time"
)

// measurement is what sessions of one case measured.
type measurement struct {
	delays  []time.Duration // publisher to reader, one per frame read
	floor   []time.Duration // the same frames through the TCP relay
	missed  []int           // frames sent while the reader was live that never came
	latency int             // SRT receiver latency in force, ms
}

// add keeps the delays of the frames sent once the reader was live: the
// frames it got first come from the keyframe cache, sent before it joined.
func (m *measurement) add(pub *publisher, got, relayGot arrivals) {
	var live time.Time
	for _, at := range got {
		if !at.IsZero() && (live.IsZero() || at.Before(live)) {
			live = at
		}
	}

	for i, sent := range pub.sent {
		if sent.IsZero() || !sent.After(live) {
			continue
		}

		if got[i].IsZero() || relayGot[i].IsZero() {
			m.missed = append(m.missed, i)

			continue
		}

		m.delays = append(m.delays, got[i].Sub(sent))
		m.floor = append(m.floor, relayGot[i].Sub(pub.relaySent[i]))
	}
}

// percentile returns the nearest-rank p-th percentile of sorted values.
func percentile(sorted []time.Duration, p int) time.Duration {
	rank := (p*len(sorted) + 99) / 100

	return sorted[max(rank, 1)-1]
}

// ms converts a duration to fractional milliseconds.
func ms(d time.Duration) float64 {
	return float64(d) / float64(time.Millisecond)
}

// printTable writes the figures of every case against the relay's and the
// target.
func printTable(w io.Writer, cases []playCase, results map[string]*measurement) {
	fmt.Fprintf(w, "\nplayback delay per video frame, from its last byte written by an RTMP "+
		"publisher\nto its last byte read by the reader; %d frames at 25 fps on loopback, "+
		"counted once\nthe reader is live. Baseline: the same bytes through a loopback TCP "+
		"relay. Target: p90\nunder %v.\n\n", sessionFrames, target)
	fmt.Fprintf(w, "%-31s %6s %9s %9s %9s %9s %11s %11s %9s  %s\n", "reader", "frames",
		"p50", "p90", "p99", "max", "relay p90", "p90-relay", "p90/relay", "target")

	srtPlayed := false

	for _, pc := range cases {
		m := results[pc.name]
		if m == nil {
			continue
		}

		srtPlayed = srtPlayed || pc.protocol == "srt"

		p90, floor := percentile(m.delays, 90), percentile(m.floor, 90)
		verdict := "pass"
		if p90 >= target {
			verdict = "FAIL"
		}

		fmt.Fprintf(w, "%-31s %6d %9s %9s %9s %9s %11s %11s %8.1fx  %s\n", label(pc, m),
			len(m.delays), round(percentile(m.delays, 50)), round(p90),
			round(percentile(m.delays, 99)), round(m.delays[len(m.delays)-1]), round(floor),
			round(p90-floor), float64(p90)/float64(max(floor, 1)), verdict)

		if len(m.missed) > 0 {
			fmt.Fprintf(w, "  %s: frames sent while it was live that never arrived: %v\n",
				pc.name, m.missed)
		}
	}

	if srtPlayed {
		fmt.Fprintln(w, "\nSRT holds every packet for the latency in force, the larger of the "+
			"reader's receiver\nlatency and the sender's peer latency (SRT draft, TSBPD). onair's "+
			"listener sets none\n(LatencyMS 0, as onair serve runs it), so its peer latency is "+
			"libsrt's 0 and the\nreader's own setting decides: 120ms unless it asks for less.")
	}

	fmt.Fprintln(w)
}

// label names a case in the table, with the SRT latency in force.
func label(pc playCase, m *measurement) string {
	if pc.protocol != "srt" {
		return pc.name
	}

	asked := "default"
	if pc.latencyMS > 0 {
		asked = strconv.Itoa(pc.latencyMS) + "ms"
	}

	return fmt.Sprintf("srt (asked %s, got %dms)", asked, m.latency)
}

// round shortens a duration for the table.
func round(d time.Duration) string {
	return d.Round(10 * time.Microsecond).String()
}
