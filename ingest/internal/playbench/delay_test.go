package playbench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

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
		wg.Wait() // the publisher closed the relay on its way out

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
