package srt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"

	"github.com/asticode/go-astits"

	"github.com/onair/onair/ingest/stream"
)

// Limits of the wait for every announced track to show its configuration
// before a broadcast starts.
const (
	// configWait is how much media time the tracks of a programme may take
	// to show their configuration (SPS/PPS, ADTS header) before the broadcast
	// starts with those that did; one that shows up later is picked up with
	// a new broadcast.
	configWait = tsClockRate // one second

	// maxPendingUnits bounds the units kept while waiting.
	maxPendingUnits = 512
)

// registrationOpus is the format_identifier of Opus in a registration
// descriptor: "Opus" in ASCII (ISO/IEC 13818-1, 2.6.8).
const registrationOpus = 0x4f707573

// sink receives what a demuxer finds: the tracks of each new broadcast and
// the units that follow.
type sink interface {
	start(tracks []*stream.Track)
	write(u *stream.Unit)
}

// demuxer turns an MPEG-TS stream into broadcasts of tracks and units. Data
// before the first PAT and PMT is skipped; a PMT that adds or removes
// elementary streams, or a change of codec configuration, starts a new
// broadcast. It is used from one goroutine.
type demuxer struct {
	log  *slog.Logger
	sink sink
	dmx  *astits.Demuxer
	pr   *packetReader

	streams map[uint16]*elementary
	order   []uint16 // PIDs in PMT order
	clk     clock
	errs    int // decode errors, read by the caller's counters

	started bool
	origin  int64 // unwrapped 90 kHz count that is time zero
	pending []*pendingUnit
	live    []*elementary // streams of the running broadcast
}

// elementary is one elementary stream of the programme.
type elementary struct {
	pid    uint16
	codec  stream.Codec
	config *stream.Track // nil until the stream showed its configuration
	track  *stream.Track // the running broadcast's track, nil when not in it
	keyed  bool          // a keyframe was seen (video), for the pending phase
	warned bool          // an unsupported stream type was logged
}

// pendingUnit is a unit waiting for the broadcast to start.
type pendingUnit struct {
	es       *elementary
	pts, dts int64
	unit     *stream.Unit
}

func newDemuxer(r io.Reader, s sink, log *slog.Logger) *demuxer {
	pr := newPacketReader(r)

	return &demuxer{
		log:     log,
		sink:    s,
		pr:      pr,
		dmx:     astits.NewDemuxer(context.Background(), pr, astits.DemuxerOptPacketSize(tsPacketSize)),
		streams: map[uint16]*elementary{},
	}
}

// run demuxes until the source fails; io.EOF means it ended.
func (d *demuxer) run() error {
	for {
		data, err := d.dmx.NextData()
		if err != nil {
			if errors.Is(err, astits.ErrNoMorePackets) {
				return io.EOF
			}

			if d.pr.fatal != nil {
				return d.pr.fatal
			}

			// A malformed packet or table: astits resumes at the next one.
			d.errs++

			continue
		}

		switch {
		case data.PMT != nil:
			d.programme(data.PMT)

		case data.PES != nil:
			d.pes(data.PID, data.PES)
		}
	}
}

// programme applies a PMT: new streams are added, gone ones removed.
func (d *demuxer) programme(pmt *astits.PMTData) {
	seen := map[uint16]bool{}
	var order []uint16

	for _, es := range pmt.ElementaryStreams {
		codec, ok := streamCodec(es)
		pid := es.ElementaryPID

		cur := d.streams[pid]
		if cur != nil && cur.codec == codec && ok {
			seen[pid] = true
			order = append(order, pid)

			continue
		}

		if !ok {
			if cur == nil || !cur.warned {
				d.log.Warn(fmt.Sprintf("mpeg-ts stream type 0x%02x on pid %d is not supported; ignored",
					uint8(es.StreamType), pid))
			}

			d.streams[pid] = &elementary{pid: pid, codec: stream.CodecUnknown, warned: true}

			continue
		}

		d.streams[pid] = newElementary(pid, codec, es)
		seen[pid] = true
		order = append(order, pid)
	}

	for pid, es := range d.streams {
		if !seen[pid] && es.codec != stream.CodecUnknown {
			delete(d.streams, pid)
		}
	}

	d.order = order

	if d.started && !d.liveMatches() {
		d.restart()
	}
}

// newElementary returns a stream; Opus, MPEG audio and unrecognised video
// are configured at once, since their tracks carry nothing the stream must
// show first.
func newElementary(pid uint16, codec stream.Codec, pes *astits.PMTElementaryStream) *elementary {
	es := &elementary{pid: pid, codec: codec}

	switch codec {
	case stream.CodecOpus:
		es.config = &stream.Track{Codec: codec, SampleRate: 48000, Channels: 2}

	case stream.CodecMP3:
		es.config = &stream.Track{Codec: codec, Format: mpegAudioNames[pes.StreamType]}

	case stream.CodecOtherVideo:
		es.config = &stream.Track{Codec: codec, Format: otherVideoTypes[pes.StreamType]}
	}

	return es
}

// streamCodec maps a PMT stream type (ISO/IEC 13818-1, table 2-34) to a
// codec onair recognises.
func streamCodec(es *astits.PMTElementaryStream) (stream.Codec, bool) {
	switch es.StreamType {
	case astits.StreamTypeH264Video:
		return stream.CodecH264, true

	case astits.StreamTypeH265Video:
		return stream.CodecH265, true

	case astits.StreamTypeAACAudio:
		return stream.CodecAAC, true

	case astits.StreamTypeMPEG1Audio, astits.StreamTypeMPEG2HalvedSampleRateAudio:
		return stream.CodecMP3, true

	case astits.StreamTypePrivateData:
		for _, desc := range es.ElementaryStreamDescriptors {
			if desc.Registration != nil && desc.Registration.FormatIdentifier == registrationOpus {
				return stream.CodecOpus, true
			}
		}
	}

	if _, ok := otherVideoTypes[es.StreamType]; ok {
		return stream.CodecOtherVideo, true
	}

	return stream.CodecUnknown, false
}

// pes handles one PES packet of an elementary stream.
func (d *demuxer) pes(pid uint16, p *astits.PESData) {
	es := d.streams[pid]
	if es == nil || es.codec == stream.CodecUnknown {
		// Before the PMT, or a PID it does not announce.
		return
	}

	oh := p.Header.OptionalHeader
	if oh == nil || oh.PTS == nil ||
		(oh.PTSDTSIndicator != astits.PTSDTSIndicatorOnlyPTS &&
			oh.PTSDTSIndicator != astits.PTSDTSIndicatorBothPresent) {
		d.errs++

		return
	}

	pts := d.clk.unwrap(oh.PTS.Base)
	dts := pts
	if oh.PTSDTSIndicator == astits.PTSDTSIndicatorBothPresent && oh.DTS != nil {
		dts = d.clk.unwrap(oh.DTS.Base)
	}

	if dts > pts {
		dts = pts
	}

	frames, err := es.parse(p.Data, pts)
	if err != nil {
		d.errs++

		return
	}

	for _, f := range frames {
		if f.pts != pts {
			// Audio frames after the first in a PES: no reordering.
			d.unit(es, f.pts, f.pts, f.unit)
		} else {
			d.unit(es, pts, dts, f.unit)
		}
	}
}

// unit hands one unit on, or keeps it until the broadcast starts.
func (d *demuxer) unit(es *elementary, pts, dts int64, u *stream.Unit) {
	if es.config == nil {
		return
	}

	if !d.started {
		if es.codec.IsVideo() && !es.keyed {
			if !u.Key {
				return
			}

			es.keyed = true
		}

		d.pending = append(d.pending, &pendingUnit{es: es, pts: pts, dts: dts, unit: u})
		if d.ready() {
			d.begin()
		}

		return
	}

	if es.track == nil || es.track.Codec != es.config.Codec || !sameConfig(es.track, es.config) {
		d.restart()
	}

	d.emit(es, pts, dts, u)
}

// ready says whether the broadcast can start: every stream is configured, or
// the wait for the others is over.
func (d *demuxer) ready() bool {
	all := true
	for _, pid := range d.order {
		if d.streams[pid].config == nil {
			all = false
		}
	}

	if all || len(d.pending) >= maxPendingUnits {
		return true
	}

	first := d.pending[0].dts
	last := d.pending[len(d.pending)-1].dts

	return last-first >= configWait
}

// begin starts the first broadcast with the pending units.
func (d *demuxer) begin() {
	d.started = true
	d.origin = d.pending[0].dts
	for _, p := range d.pending {
		d.origin = min(d.origin, p.dts)
	}

	d.restart()

	for _, p := range d.pending {
		if p.es.track != nil {
			d.emit(p.es, p.pts, p.dts, p.unit)
		}
	}

	d.pending = nil
}

// restart starts a broadcast of the configured streams.
func (d *demuxer) restart() {
	var tracks []*stream.Track

	d.live = d.live[:0]

	for _, es := range d.streams {
		es.track = nil
	}

	for _, pid := range d.order {
		es := d.streams[pid]
		if es.config == nil {
			continue
		}

		t := *es.config
		t.ID = len(tracks) + 1
		es.track = &t
		tracks = append(tracks, &t)
		d.live = append(d.live, es)
	}

	d.sink.start(tracks)
}

// liveMatches says whether the running broadcast has exactly the configured
// streams of the programme.
func (d *demuxer) liveMatches() bool {
	var want []*elementary
	for _, pid := range d.order {
		if es := d.streams[pid]; es.config != nil {
			want = append(want, es)
		}
	}

	return slices.Equal(want, d.live)
}

// emit writes a unit of a running track with timestamps from the origin.
func (d *demuxer) emit(es *elementary, pts, dts int64, u *stream.Unit) {
	if dts < d.origin {
		// Earlier than the broadcast's start: nothing to play it against.
		return
	}

	u.Track = es.track
	u.PTS = tsDuration(pts - d.origin)
	u.DTS = tsDuration(dts - d.origin)
	d.sink.write(u)
}
