package srt

import (
	"io"
	"time"

	"github.com/onair/onair/ingest/stream"
)

// TSMuxer writes a broadcast's units as MPEG-TS in SRT live messages of up to
// seven TS packets, the same way SRT playback does, for a push client to
// send. Timestamps are rebased so that the first unit written starts near
// zero.
type TSMuxer struct {
	mw     *messageWriter
	tw     *tsWriter
	origin time.Duration
	begun  bool
}

// NewTSMuxer returns a muxer of a broadcast's tracks writing each message to
// w with one Write. It fails when no track can be carried over MPEG-TS.
func NewTSMuxer(w io.Writer, tracks []*stream.Track) (*TSMuxer, error) {
	mw := &messageWriter{w: w}

	tw, err := newTSWriter(mw, tracks)
	if err != nil {
		return nil, err
	}

	return &TSMuxer{mw: mw, tw: tw}, nil
}

// WriteUnit muxes one unit and sends what is queued. Units of tracks that
// MPEG-TS does not carry are skipped.
func (m *TSMuxer) WriteUnit(u *stream.Unit) error {
	if !m.begun {
		m.begun = true
		m.origin = u.DTS
	}

	rebased := *u
	rebased.PTS -= m.origin
	rebased.DTS -= m.origin

	if err := m.tw.write(&rebased); err != nil {
		return err
	}

	return m.mw.flush()
}
