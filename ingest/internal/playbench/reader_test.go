package playbench

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/binary"
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

// MPEG-TS packet layout (ISO/IEC 13818-1 2.4.3.2) and the PES stream IDs of
// video (table 2-22: 1110 xxxx).
const (
	tsPacketSize = 188
	tsSyncByte   = 0x47
	pesVideoMask = 0xf0
	pesVideoID   = 0xe0
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

// readRelay reads the relay's length-prefixed frames until it closes.
func readRelay(r io.Reader, got arrivals) error {
	br := bufio.NewReader(r)
	var size [4]byte

	for {
		if _, err := io.ReadFull(br, size[:]); err != nil {
			return endOfPlayback(context.Background(), err)
		}

		b := make([]byte, binary.BigEndian.Uint32(size[:]))
		if _, err := io.ReadFull(br, b); err != nil {
			return err
		}

		got.note(b, time.Now())
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

// tsFrames cuts the video PES packets of an MPEG-TS stream into frames: a
// packet with payload_unit_start_indicator set and a video PES header begins
// the next one. A frame is whole when the packet before the next one came.
type tsFrames struct {
	onFrame func(b []byte, at time.Time)

	pid  int
	buf  []byte // the frame being gathered; nil before the first
	last time.Time
}

// packet takes one TS packet that arrived at at.
func (f *tsFrames) packet(p []byte, at time.Time) {
	if len(p) != tsPacketSize || p[0] != tsSyncByte {
		return
	}

	pid := int(p[1]&0x1f)<<8 | int(p[2])
	start := p[1]&0x40 != 0

	payload, ok := tsPayload(p)
	if !ok {
		return
	}

	switch {
	case start && isVideoPES(payload):
		f.flush()
		f.pid = pid
		f.buf = append(f.buf, payload...)
		f.last = at

	case f.buf != nil && pid == f.pid && !start:
		f.buf = append(f.buf, payload...)
		f.last = at
	}
}

// flush hands the frame gathered so far to onFrame.
func (f *tsFrames) flush() {
	if len(f.buf) > 0 {
		f.onFrame(f.buf, f.last)
	}

	if f.buf != nil {
		f.buf = f.buf[:0]
	}
}

// tsPayload returns the payload of a packet, after its adaptation field
// (ISO/IEC 13818-1 2.4.3.5).
func tsPayload(p []byte) ([]byte, bool) {
	control := p[3] >> 4 & 3
	off := 4

	if control&2 != 0 {
		off += 1 + int(p[4])
	}

	if control&1 == 0 || off >= tsPacketSize {
		return nil, false
	}

	return p[off:], true
}

// isVideoPES reports whether b begins with the header of a video PES packet
// (ISO/IEC 13818-1 2.4.3.6).
func isVideoPES(b []byte) bool {
	return len(b) >= 4 && b[0] == 0 && b[1] == 0 && b[2] == 1 && b[3]&pesVideoMask == pesVideoID
}
