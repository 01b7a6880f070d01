package restream

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/haivision/srtgo"

	"github.com/onair/onair/ingest/srt"
	"github.com/onair/onair/ingest/stream"
	"github.com/onair/onair/restream/destination"
)

// Limits of an SRT push.
const (
	// srtConnectTimeoutMS bounds the SRT handshake (libsrt's SRTO_CONNTIMEO).
	srtConnectTimeoutMS = 5000

	// srtWriteTimeout fails a write that libsrt could not queue for that long.
	srtWriteTimeout = 5 * time.Second
)

var initSRT sync.Once

// srtPusher sends MPEG-TS to an SRT listener as a caller.
type srtPusher struct {
	sock *srtgo.SrtSocket
	mux  *srt.TSMuxer
	stop func() bool

	mu     sync.Mutex
	closed bool
}

// dialSRT resolves d's host, connects with its stream ID and passphrase and
// prepares the muxer.
func dialSRT(ctx context.Context, d *destination.Destination,
	tracks []*stream.Track) (pusher, error) {
	initSRT.Do(srtgo.InitSRT)

	setup, cancel := context.WithTimeoutCause(ctx, setupTimeout, errSetupTimeout)
	defer cancel()

	ips, err := net.DefaultResolver.LookupIP(setup, "ip", d.Host)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", d.Host, err)
	}

	opts := map[string]string{"blocking": "0", "mode": "caller", "transtype": "live",
		"conntimeo": strconv.Itoa(srtConnectTimeoutMS)}
	if d.StreamID != "" {
		opts["streamid"] = d.StreamID
	}

	if d.Passphrase != "" {
		opts["passphrase"] = d.Passphrase
	}

	if d.LatencyMS > 0 {
		opts["latency"] = strconv.Itoa(d.LatencyMS)
	}

	sock := srtgo.NewSrtSocket(ips[0].String(), uint16(d.Port), opts)
	if sock == nil {
		return nil, errors.New("srt socket could not be created")
	}

	p := &srtPusher{sock: sock}
	stopWatch := context.AfterFunc(setup, p.close)

	err = sock.Connect()
	if !stopWatch() {
		err = cmpErr(context.Cause(setup), err)
	}

	if err != nil {
		p.close()

		// libsrt says only that the socket closed when the listener
		// rejects the caller; srtgo cannot read the reject reason.
		return nil, fmt.Errorf("srt connect refused or unanswered (check the listener, "+
			"streamid and passphrase): %w", err)
	}

	p.mux, err = srt.NewTSMuxer(p, tracks)
	if err != nil {
		p.close()

		return nil, fmt.Errorf("%w: %w", errNoTracks, err)
	}

	p.stop = context.AfterFunc(ctx, p.close)

	return p, nil
}

// Write sends one SRT message of the muxer.
func (p *srtPusher) Write(b []byte) (int, error) {
	return p.sock.Write(b)
}

func (p *srtPusher) write(u *stream.Unit) error {
	p.sock.SetWriteDeadline(time.Now().Add(srtWriteTimeout))

	if err := p.mux.WriteUnit(u); err != nil {
		return fmt.Errorf("srt write: %w", err)
	}

	return nil
}

func (p *srtPusher) close() {
	p.mu.Lock()
	defer p.mu.Unlock()

	if p.closed {
		return
	}

	p.closed = true

	if p.stop != nil {
		p.stop()
	}

	// A deadline wakes a Connect or Write in progress, which Close does not.
	p.sock.SetDeadline(time.Now())
	p.sock.Close()
}
