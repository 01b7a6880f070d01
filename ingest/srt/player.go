package srt

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"
	"github.com/haivision/srtgo"

	"github.com/onair/onair/ingest/stream"
)

// tsMessageSize is the payload of one SRT live message: seven TS packets,
// the size every SRT implementation expects (1316 bytes).
const tsMessageSize = 7 * tsPacketSize

// drainPoll and drainLimit pace and bound drain.
const (
	drainPoll  = 20 * time.Millisecond
	drainLimit = 3 * time.Second
)

// playerOffset shifts the timestamps written to players so that the PCR,
// which runs a little ahead of them, never goes below zero.
const playerOffset = time.Second

// play sends the broadcast in progress to the caller as MPEG-TS, from its
// last keyframe, until the broadcast ends or the caller falls behind.
func (c *conn) play(hub *stream.Hub) error {
	r, err := hub.Subscribe("srt "+c.remote, c.s.PlayerQueue)
	if err != nil {
		return fmt.Errorf("play of input %s refused: %w", hub.InputUID, err)
	}
	defer r.Close()

	c.log.Info("playing input " + hub.InputUID)

	mw := &messageWriter{w: c.sock}
	tw, err := newTSWriter(mw, r.Tracks())
	if err != nil {
		return err
	}

	for u := range r.Units() {
		if err := tw.write(u); err != nil {
			return fmt.Errorf("%w: %w", ErrConnectionLost, err)
		}

		if err := mw.flush(); err != nil {
			return fmt.Errorf("%w: %w", ErrConnectionLost, err)
		}
	}

	if reason := c.cause(); reason != nil {
		return reason
	}

	if err := r.Err(); !errors.Is(err, stream.ErrSlowReader) {
		c.drain()
	}

	return r.Err()
}

// drain waits, when a broadcast ends, until the caller has acknowledged
// everything sent and its receiver latency has passed, so that it plays the
// last pictures: libsrt drops what a receiver still holds when the sender
// closes. It gives up after drainLimit or when the connection is cut off.
func (c *conn) drain() {
	deadline := time.Now().Add(drainLimit)

	for time.Now().Before(deadline) && c.cause() == nil {
		st, err := c.sock.Stats()
		if err != nil || st.PktSndBuf == 0 {
			break
		}

		time.Sleep(drainPoll)
	}

	latency, err := c.sock.GetSockOptInt(srtgo.SRTO_PEERLATENCY)
	if err != nil {
		return
	}

	wait := time.Duration(latency)*time.Millisecond + drainPoll
	if left := time.Until(deadline); wait > left {
		wait = left
	}

	if wait > 0 {
		time.Sleep(wait)
	}
}

// messageWriter groups the muxer's packets into SRT messages of up to
// seven packets.
type messageWriter struct {
	w   io.Writer
	buf []byte
}

// Write queues p, sending every full message.
func (m *messageWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		c := min(len(p), tsMessageSize-len(m.buf))
		m.buf = append(m.buf, p[:c]...)
		p = p[c:]

		if len(m.buf) == tsMessageSize {
			if err := m.flush(); err != nil {
				return 0, err
			}
		}
	}

	return n, nil
}

// flush sends what is queued as one message.
func (m *messageWriter) flush() error {
	if len(m.buf) == 0 {
		return nil
	}

	_, err := m.w.Write(m.buf)
	m.buf = m.buf[:0]

	return err
}

// tsWriter muxes a broadcast's units into MPEG-TS.
type tsWriter struct {
	w      *mpegts.Writer
	tracks map[*stream.Track]*mpegts.Track
}

// newTSWriter prepares a muxer of the tracks it can carry.
func newTSWriter(w io.Writer, tracks []*stream.Track) (*tsWriter, error) {
	tw := &tsWriter{tracks: map[*stream.Track]*mpegts.Track{}}
	var out []*mpegts.Track

	for _, t := range tracks {
		codec, err := tsCodec(t)
		if err != nil {
			continue
		}

		mt := &mpegts.Track{Codec: codec}
		tw.tracks[t] = mt
		out = append(out, mt)
	}

	if len(out) == 0 {
		return nil, errors.New("broadcast has no track mpeg-ts can carry")
	}

	tw.w = &mpegts.Writer{W: w, Tracks: out}
	if err := tw.w.Initialize(); err != nil {
		return nil, fmt.Errorf("mpeg-ts writer: %w", err)
	}

	return tw, nil
}

// tsCodec maps a track to the muxer's codec.
func tsCodec(t *stream.Track) (mpegts.Codec, error) {
	switch t.Codec {
	case stream.CodecH264:
		return &mpegts.CodecH264{}, nil

	case stream.CodecH265:
		return &mpegts.CodecH265{}, nil

	case stream.CodecOpus:
		return &mpegts.CodecOpus{ChannelCount: max(t.Channels, 1)}, nil

	case stream.CodecAAC:
		var asc mpeg4audio.AudioSpecificConfig
		if err := asc.Unmarshal(t.AudioConfig); err != nil {
			return nil, fmt.Errorf("aac config: %w", err)
		}

		return &mpegts.CodecMPEG4Audio{Config: asc}, nil
	}

	return nil, fmt.Errorf("codec %s is not carried over mpeg-ts", t.Codec)
}

// write muxes one unit; units of tracks the muxer does not carry are skipped.
func (tw *tsWriter) write(u *stream.Unit) error {
	mt := tw.tracks[u.Track]
	if mt == nil {
		return nil
	}

	pts := ticks(u.PTS + playerOffset)
	dts := ticks(u.DTS + playerOffset)

	switch u.Track.Codec {
	case stream.CodecH264:
		return tw.w.WriteH264(mt, pts, dts, withParameterSets(u))

	case stream.CodecH265:
		return tw.w.WriteH265(mt, pts, dts, withParameterSets(u))

	case stream.CodecOpus:
		return tw.w.WriteOpus(mt, pts, [][]byte{u.Payload})

	case stream.CodecAAC:
		return tw.w.WriteMPEG4Audio(mt, pts, [][]byte{u.Payload})
	}

	return nil
}

// withParameterSets puts the track's parameter sets in front of a keyframe,
// where an MPEG-TS decoder looks for them; sources such as RTMP carry them
// out of band.
func withParameterSets(u *stream.Unit) [][]byte {
	t := u.Track
	if !u.Key || len(t.SPS) == 0 || len(t.PPS) == 0 {
		return u.NALUs
	}

	out := make([][]byte, 0, len(u.NALUs)+3)
	if len(t.VPS) > 0 {
		out = append(out, t.VPS)
	}

	out = append(out, t.SPS, t.PPS)

	for _, n := range u.NALUs {
		if !isParameterSet(t.Codec, n) {
			out = append(out, n)
		}
	}

	return out
}

// isParameterSet reports whether a NAL unit is a VPS, SPS or PPS.
func isParameterSet(c stream.Codec, n []byte) bool {
	if len(n) == 0 {
		return false
	}

	if c == stream.CodecH264 {
		t := n[0] & 0x1f
		return t == 7 || t == 8
	}

	t := (n[0] >> 1) & 0x3f

	return t >= 32 && t <= 34
}

// ticks converts a duration to a 90 kHz count.
func ticks(d time.Duration) int64 {
	return int64(d/time.Second*tsClockRate) + int64(d%time.Second)*tsClockRate/int64(time.Second)
}
