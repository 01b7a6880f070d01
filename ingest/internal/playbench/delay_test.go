package playbench

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/onair/onair/ingest/rtmp"
	"github.com/onair/onair/ingest/srt"
	"github.com/onair/onair/ingest/stream"
)

// Credentials of the benchmark's live input.
const (
	publishKey  = "bench-publish"
	playbackKey = "bench-play"
	passphrase  = "bench-passphrase-0123"
)

// Limits of one session.
const (
	// sessionFrames is how many frames the publisher sends: 10 s at 25 fps.
	sessionFrames = 250

	// startLimit is how long the broadcast may take to start.
	startLimit = 10 * time.Second

	// drainLimit is how long readers may take to see the end after the
	// publisher has left.
	drainLimit = 5 * time.Second
)

// target is the goal for the added delay at the 90th percentile.
const target = 200 * time.Millisecond

// playCase is one way of playing the broadcast back.
type playCase struct {
	name     string
	protocol string // "rtmp", "rtmps" or "srt"

	// latencyMS is the SRT latency the reader asks for; 0 keeps libsrt's
	// default. The server keeps its own default, as onair runs it.
	latencyMS int
}

// measurement is what sessions of one case measured.
type measurement struct {
	delays  []time.Duration // publisher to reader, one per frame read
	floor   []time.Duration // the same frames through the TCP relay
	missed  []int           // frames sent while the reader was live that never came
	latency int             // SRT receiver latency in force, ms
}

func BenchmarkPlaybackDelay(b *testing.B) {
	cases := []playCase{
		{name: "rtmp", protocol: "rtmp"},
		{name: "rtmps", protocol: "rtmps"},
		{name: "srt", protocol: "srt"},
		{name: "srt-latency-20ms", protocol: "srt", latencyMS: 20},
	}

	results := map[string]*measurement{}

	for _, pc := range cases {
		b.Run(pc.name, func(b *testing.B) {
			m := &measurement{}
			for range b.N {
				if err := session(pc, m); err != nil {
					b.Fatal(err)
				}
			}

			if len(m.delays) == 0 {
				b.Fatal("no frame was read")
			}

			slices.Sort(m.delays)
			slices.Sort(m.floor)
			results[pc.name] = m

			b.ReportMetric(0, "ns/op")
			b.ReportMetric(ms(percentile(m.delays, 50)), "p50-ms")
			b.ReportMetric(ms(percentile(m.delays, 90)), "p90-ms")
			b.ReportMetric(ms(percentile(m.delays, 99)), "p99-ms")
			b.ReportMetric(ms(m.delays[len(m.delays)-1]), "max-ms")
			b.ReportMetric(ms(percentile(m.floor, 90)), "floor-p90-ms")
		})
	}

	printTable(os.Stdout, cases, results)
}

// session publishes one broadcast over RTMP, plays it back as pc says and
// through the TCP relay, and adds what it measured to m.
func session(pc playCase, m *measurement) error {
	hub := &stream.Hub{InputUID: "bench"}
	dir := &directory{hub: hub}

	servers, err := startServers(pc, dir)
	if err != nil {
		return err
	}
	defer servers.close()

	relay, err := newTCPRelay()
	if err != nil {
		return err
	}
	defer relay.close()

	conn, err := dialRTMP(servers.rtmp, nil)
	if err != nil {
		return err
	}

	pub := &publisher{rtmp: conn, relay: relay.in, frames: sessionFrames}
	got := make(arrivals, sessionFrames)
	relayGot := make(arrivals, sessionFrames)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	var wg sync.WaitGroup
	var pubErr, readErr, relayErr error
	wg.Go(func() { relayErr = readRelay(relay.out, relayGot) })

	pubDone := make(chan struct{})
	go func() {
		defer close(pubDone)

		pubErr = pub.run(publishKey)
	}()

	if err := waitLive(hub, pubDone); err != nil {
		<-pubDone

		return errors.Join(err, pubErr)
	}

	wg.Go(func() { readErr = play(ctx, pc, servers, got, &m.latency) })

	<-pubDone
	timer := time.AfterFunc(drainLimit, cancel)
	wg.Wait()
	timer.Stop()

	if err := errors.Join(pubErr, readErr, relayErr); err != nil {
		return err
	}

	m.add(pub, got, relayGot)

	return nil
}

// waitLive waits for the hub's broadcast to start, or the publisher to stop.
func waitLive(hub *stream.Hub, pubDone <-chan struct{}) error {
	deadline := time.Now().Add(startLimit)
	for hub.Current() == nil {
		select {
		case <-pubDone:
			return errors.New("publisher stopped before the broadcast started")

		case <-time.After(5 * time.Millisecond):
		}

		if time.Now().After(deadline) {
			return fmt.Errorf("broadcast not started after %v", startLimit)
		}
	}

	return nil
}

// play reads the broadcast back with the protocol of pc.
func play(ctx context.Context, pc playCase, s *servers, got arrivals, latency *int) error {
	switch pc.protocol {
	case "rtmp":
		return readRTMP(ctx, s.rtmp, nil, playbackKey, got)

	case "rtmps":
		return readRTMP(ctx, s.rtmps, s.clientTLS, playbackKey, got)
	}

	r := &srtReader{addr: s.srt, streamID: playbackKey, passphrase: passphrase,
		latencyMS: pc.latencyMS}
	err := r.run(ctx, got)
	*latency = r.negotiated

	return err
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

// directory opens the benchmark's one live input.
type directory struct {
	hub *stream.Hub
}

func (d *directory) PublishHub(_, key string) (*stream.Hub, stream.Secret, error) {
	if key != publishKey {
		return nil, "", &stream.AuthError{Reason: stream.AuthUnknownKey}
	}

	return d.hub, "", nil
}

func (d *directory) PlaybackHub(protocol, key string) (*stream.Hub, stream.Secret, error) {
	if key != playbackKey {
		return nil, "", &stream.AuthError{Reason: stream.AuthUnknownKey}
	}

	if protocol == "srt" {
		return d.hub, passphrase, nil
	}

	return d.hub, "", nil
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

	for _, pc := range cases {
		m := results[pc.name]
		if m == nil {
			continue
		}

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

// servers are the ingest servers of one session.
type servers struct {
	rtmp, rtmps, srt string // addresses; empty when not started
	clientTLS        *tls.Config

	closers []io.Closer
}

// startServers starts an RTMP server, and the RTMPS or SRT server pc plays
// from.
func startServers(pc playCase, dir stream.Directory) (*servers, error) {
	s := &servers{}

	addr, err := s.startRTMP(&rtmp.Server{Directory: dir})
	if err != nil {
		return nil, err
	}

	s.rtmp = addr

	switch pc.protocol {
	case "rtmps":
		server, client, err := selfSigned()
		if err == nil {
			s.clientTLS = client
			s.rtmps, err = s.startRTMP(&rtmp.Server{Directory: dir, TLSConfig: server})
		}

		if err != nil {
			s.close()

			return nil, err
		}

	case "srt":
		if err := s.startSRT(dir); err != nil {
			s.close()

			return nil, err
		}
	}

	return s, nil
}

// startRTMP starts srv on a loopback port and returns its address.
func (s *servers) startRTMP(srv *rtmp.Server) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}

	if err := srv.Start(ln); err != nil {
		ln.Close()

		return "", err
	}

	s.closers = append(s.closers, srv)

	return ln.Addr().String(), nil
}

// startSRT starts an SRT server on a UDP port the kernel just handed out
// (srtgo cannot report the port of a listener bound to 0).
func (s *servers) startSRT(dir stream.Directory) error {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return err
	}

	port := pc.LocalAddr().(*net.UDPAddr).Port
	pc.Close()

	srv := &srt.Server{Address: "127.0.0.1:" + strconv.Itoa(port), Directory: dir}
	if err := srv.Start(); err != nil {
		return err
	}

	s.closers = append(s.closers, srv)
	s.srt = srv.Address

	return nil
}

// close closes every server started.
func (s *servers) close() {
	for _, c := range s.closers {
		c.Close()
	}
}
