package playbench

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"

	"github.com/haivision/srtgo"
	gortmp "github.com/yutopp/go-rtmp"
	"github.com/yutopp/go-rtmp/message"
)

// arrivals holds, per frame index, when a reader had the whole frame.
type arrivals []time.Time

// note records the frame that b holds, the first time it arrives.
func (a arrivals) note(b []byte, at time.Time) {
	i, ok := frameIndex(b)
	if ok && i < len(a) && a[i].IsZero() {
		a[i] = at
	}
}

// readRTMP plays key over RTMP (RTMPS when tc is set) until the server ends
// the playback or ctx is done.
func readRTMP(ctx context.Context, addr string, tc *tls.Config, key string, got arrivals) error {
	c, err := dialRTMP(addr, tc)
	if err != nil {
		return err
	}
	defer c.nc.Close()

	stop := context.AfterFunc(ctx, func() { c.nc.Close() })
	defer stop()

	if err := c.start(); err != nil {
		return err
	}

	if err := c.command(1, "play", 0.0, nil, key); err != nil {
		return err
	}

	cs := gortmp.NewChunkStreamer(bufio.NewReader(c.nc), io.Discard, nil)
	defer cs.Close()

	var cm gortmp.ChunkMessage
	for {
		if _, _, err := cs.Read(&cm); err != nil {
			return endOfPlayback(ctx, err)
		}

		at := time.Now()

		switch m := cm.Message.(type) {
		case *message.SetChunkSize:
			if err := cs.PeerState().SetChunkSize(m.ChunkSize); err != nil {
				return err
			}

		case *message.VideoMessage:
			b, err := io.ReadAll(m.Payload)
			if err != nil {
				return err
			}

			got.note(b, at)
		}
	}
}

// endOfPlayback turns the error that ended a read into nil when the peer
// closed the connection or ctx asked for the end.
func endOfPlayback(ctx context.Context, err error) error {
	if ctx.Err() != nil || errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
		return nil
	}

	return err
}

// srtReader is a caller that plays an SRT stream ID.
type srtReader struct {
	addr       string
	streamID   string
	passphrase string
	latencyMS  int // 0: libsrt's default

	negotiated int // the receiver latency in force, read once connected
}

// run connects and reads the MPEG-TS stream until the server ends it or ctx
// is done.
func (r *srtReader) run(ctx context.Context, got arrivals) error {
	host, portText, err := net.SplitHostPort(r.addr)
	if err != nil {
		return err
	}

	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil {
		return err
	}

	opts := map[string]string{"blocking": "0", "transtype": "live", "mode": "caller",
		"streamid": r.streamID, "passphrase": r.passphrase}
	if r.latencyMS > 0 {
		opts["latency"] = strconv.Itoa(r.latencyMS)
	}

	sock := srtgo.NewSrtSocket(host, uint16(port), opts)
	if sock == nil {
		return errors.New("srt caller socket not created")
	}
	defer sock.Close()

	sock.SetDeadline(time.Time{}) // srtgo recycles poll state with its deadline

	if err := sock.Connect(); err != nil {
		return fmt.Errorf("srt connect: %w", err)
	}

	if r.negotiated, err = sock.GetSockOptInt(srtgo.SRTO_RCVLATENCY); err != nil {
		return fmt.Errorf("srt receiver latency: %w", err)
	}

	// A deadline wakes a Read in progress, which Close does not.
	stop := context.AfterFunc(ctx, func() { sock.SetDeadline(time.Now()) })
	defer stop()

	frames := &tsFrames{onFrame: got.note}
	defer frames.flush()

	buf := make([]byte, 1500)
	for {
		n, err := sock.Read(buf)
		if err != nil {
			// libsrt reports a peer that closed as a lost connection.
			return nil
		}

		at := time.Now()
		for p := buf[:n]; len(p) >= tsPacketSize; p = p[tsPacketSize:] {
			frames.packet(p[:tsPacketSize], at)
		}
	}
}
