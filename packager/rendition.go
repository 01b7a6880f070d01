package packager

import (
	"fmt"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4/seekablebuffer"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"

	"github.com/onair/onair/ingest/stream"
)

// Timescales of the CMAF tracks (ISO/IEC 23000-19 recommends 90 kHz for video
// and the sampling rate for audio, so that every AAC frame lasts 1024 ticks).
const (
	videoTimescale = 90000

	// aacFrameSamples is the length of one AAC-LC frame (ISO/IEC 14496-3 4.5.1).
	aacFrameSamples = 1024
)

// segment is one finished media segment of a rendition.
type segment struct {
	seq           uint64
	start         uint64 // decode time of the first sample, in the timescale
	duration      uint64 // in the timescale
	size          int
	discontinuity bool      // the segment follows a gap in the rendition
	wall          time.Time // program date-time of the first sample
	parts         []*part   // the segment's bytes are its parts' back to back
	lost          bool      // the store refused it: listed as a gap
	session       string    // the session token in its URI, which names its init segment
}

// seconds returns the segment's duration in seconds.
func (s *segment) seconds(timescale uint32) float64 {
	return float64(s.duration) / float64(timescale)
}

// rendition is one CMAF track of a presentation: a video rung or the audio.
type rendition struct {
	name      string
	track     *stream.Track
	video     bool
	timescale uint32
	codecs    string
	width     int
	height    int
	frameRate float64
	init      []byte
	inits     map[string][]byte // init segments by session, after a Resume

	// The segment being cut. When the rendition's sample duration is not
	// known (nominal zero), its last unit waits in pending until the next
	// unit gives its duration; when it is, a unit is added at once lasting
	// nominal ticks (last is its sample), and the next unit settles it.
	// Samples gather in the open part; finished parts are appended to
	// segData, which becomes the segment.
	open      bool
	samples   []*fmp4.Sample
	size      int
	segStart  uint64
	segTicks  uint64 // duration of the open segment's samples so far
	segData   []byte
	parts     []*part
	partStart uint64 // decode time of the open part's first sample
	partTicks uint64 // duration of the open part's samples
	fragments uint32 // moof sequence numbers handed out
	pending   *stream.Unit
	pendingTS uint64        // decode time of the last unit taken, in ticks
	prevDTS   time.Duration // DTS of the last unit taken
	rate      uint64        // the duration of every sample, in ticks; zero: unknown
	nominal   uint64        // rate while the units keep it, else zero
	steady    int           // units in a row at the rate, while nominal is zero
	last      *fmp4.Sample  // the last unit's sample, added lasting nominal ticks
	onGrid    bool          // the last segment was cut on its boundary
	complete  bool          // the open segment's parts are out: the next unit starts one
	maxPTS    time.Duration // the latest PTS in the open segment
	lastDelta uint64
	boundary  time.Duration // the next cut time
	waitKey   bool          // drop pictures until a keyframe
	disc      bool          // the next segment follows a gap
	lastDTS   time.Duration // DTS of the last unit taken, for the inactivity check
	inactive  bool

	segments   []*segment // kept, oldest first; the newest Window are listed
	nextSeq    uint64
	discBefore uint64 // discontinuities among the segments already evicted
}

// newRendition describes track as a rendition named name and builds its init
// segment.
func newRendition(name string, track *stream.Track) (*rendition, error) {
	r := &rendition{name: name, track: track, video: track.IsVideo()}

	var codec codecs.Codec

	switch track.Codec {
	case stream.CodecH264:
		c, err := r.describeH264()
		if err != nil {
			return nil, err
		}

		codec = c

	case stream.CodecAAC:
		c, err := r.describeAAC()
		if err != nil {
			return nil, err
		}

		codec = c

	default:
		return nil, fmt.Errorf("track %d: codec %v cannot be packaged", track.ID, track.Codec)
	}

	init := fmp4.Init{Tracks: []*fmp4.InitTrack{{
		ID:         1,
		TimeScale:  r.timescale,
		AvgBitrate: uint32(max(track.Bitrate, 0)),
		MaxBitrate: uint32(max(track.Bitrate, 0)),
		Codec:      codec,
	}}}

	var buf seekablebuffer.Buffer

	err := init.Marshal(&buf)
	if err != nil {
		return nil, fmt.Errorf("track %d: init segment: %w", track.ID, err)
	}

	r.init = buf.Bytes()
	r.waitKey = r.video
	r.rate = r.nominalDuration()
	r.nominal = r.rate
	r.onGrid = true

	return r, nil
}

// describeH264 reads the picture size, frame rate and codecs string of an
// H.264 track, preferring the track's fields and falling back to the SPS.
func (r *rendition) describeH264() (codecs.Codec, error) {
	t := r.track
	if len(t.SPS) == 0 || len(t.PPS) == 0 {
		return nil, fmt.Errorf("track %d: h264 without sps or pps", t.ID)
	}

	var sps h264.SPS

	err := sps.Unmarshal(t.SPS)
	if err != nil {
		return nil, fmt.Errorf("track %d: sps: %w", t.ID, err)
	}

	r.codecs, err = avcCodec(t.SPS)
	if err != nil {
		return nil, fmt.Errorf("track %d: %w", t.ID, err)
	}

	r.timescale = videoTimescale
	r.width, r.height, r.frameRate = t.Width, t.Height, t.FrameRate

	if r.width <= 0 || r.height <= 0 {
		r.width, r.height = sps.Width(), sps.Height()
	}

	if r.frameRate <= 0 {
		r.frameRate = sps.FPS()
	}

	return &codecs.H264{SPS: t.SPS, PPS: t.PPS}, nil
}

// describeAAC reads the sample rate and codecs string of an AAC track.
func (r *rendition) describeAAC() (codecs.Codec, error) {
	t := r.track

	var conf mpeg4audio.AudioSpecificConfig

	err := conf.Unmarshal(t.AudioConfig)
	if err != nil {
		return nil, fmt.Errorf("track %d: audio specific config: %w", t.ID, err)
	}

	if conf.SampleRate <= 0 {
		return nil, fmt.Errorf("track %d: sample rate %d is not positive", t.ID, conf.SampleRate)
	}

	r.codecs = aacCodec(&conf)
	r.timescale = uint32(conf.SampleRate)

	return &codecs.MPEG4Audio{Config: conf}, nil
}

// defaultDuration is the duration given to a last sample whose successor
// never came and whose predecessor is unknown: one frame.
func (r *rendition) defaultDuration() uint64 {
	if !r.video {
		return aacFrameSamples
	}

	if r.frameRate > 0 {
		return uint64(float64(r.timescale)/r.frameRate + 0.5)
	}

	return uint64(r.timescale / 25)
}

// nominalDuration returns the duration of every sample of a rendition made
// at a constant rate, in ticks, or zero when it is not known: an AAC frame
// lasts 1024 samples, and a picture of a track whose frame rate is set lasts
// one frame. A rendition that turns out not to keep it waits for the next
// unit (settle) until it keeps it again for a segment (steadied).
func (r *rendition) nominalDuration() uint64 {
	if !r.video {
		return aacFrameSamples
	}

	if r.track.FrameRate > 0 {
		return uint64(float64(r.timescale)/r.track.FrameRate + 0.5)
	}

	return 0
}

// addPending appends the pending unit to the open segment as a sample lasting
// duration ticks.
func (r *rendition) addPending(duration uint64) error {
	u := r.pending
	r.pending = nil

	s := &fmp4.Sample{Duration: uint32(duration)}

	if !r.video {
		s.Payload = u.Payload
		r.samples = append(r.samples, s)
		r.size += len(s.Payload)
		r.partTicks += duration
		r.segTicks += duration

		return nil
	}

	offset := (u.PTS - u.DTS) * time.Duration(r.timescale) / time.Second

	err := s.FillH264(int32(offset), mp4NALUs(u.NALUs))
	if err != nil {
		return fmt.Errorf("rendition %s: picture at dts %v: %w", r.name, u.DTS, err)
	}

	// The unit's Key flag is the producer's word and covers pictures whose
	// IDR slice follows other NAL units FillH264 does not look past.
	s.IsNonSyncSample = !u.Key
	r.samples = append(r.samples, s)
	r.size += len(s.Payload)
	r.partTicks += duration
	r.segTicks += duration

	return nil
}

// mp4NALUs drops the NAL units that ISO/IEC 14496-15 keeps out of samples
// (access unit delimiters, 5.3.1) and the empty ones.
func mp4NALUs(nalus [][]byte) [][]byte {
	out := make([][]byte, 0, len(nalus))
	for _, n := range nalus {
		if len(n) == 0 || h264.NALUType(n[0]&0x1f) == h264.NALUTypeAccessUnitDelimiter {
			continue
		}

		out = append(out, n)
	}

	return out
}

// marshalPart writes the open part's samples as one CMAF fragment
// (moof+mdat) with the next fragment sequence number (ISO/IEC 14496-12
// 8.8.5: rising across the track).
func (r *rendition) marshalPart() ([]byte, error) {
	r.fragments++

	part := fmp4.Part{
		SequenceNumber: r.fragments,
		Tracks: []*fmp4.PartTrack{{
			ID:       1,
			BaseTime: r.partStart,
			Samples:  r.samples,
		}},
	}

	var buf seekablebuffer.Buffer

	err := part.Marshal(&buf)
	if err != nil {
		return nil, fmt.Errorf("rendition %s: fragment %d: %w", r.name, r.fragments, err)
	}

	return buf.Bytes(), nil
}

// listed returns the segments the live playlist shows: the newest window.
func (r *rendition) listed(window int) []*segment {
	if len(r.segments) <= window {
		return r.segments
	}

	return r.segments[len(r.segments)-window:]
}

// discontinuitySequence returns the EXT-X-DISCONTINUITY-SEQUENCE of a
// playlist listing the newest window segments: the discontinuities before its
// first segment, including the first segment's own, whose tag is not written
// (RFC 8216 4.3.3.3, 6.2.2).
func (r *rendition) discontinuitySequence(window int) uint64 {
	n := r.discBefore
	first := len(r.segments) - len(r.listed(window))

	for _, s := range r.segments[:min(first+1, len(r.segments))] {
		if s.discontinuity {
			n++
		}
	}

	return n
}

// bandwidth returns the peak and average bitrate, in bits per second, of the
// listed segments; ok is false when there are none. Segments shorter than
// short seconds (a broadcast's last, cut at End) count in the average only,
// unless all are that short: one keyframe over a few milliseconds is no peak
// a player has to sustain.
func (r *rendition) bandwidth(window int, short float64) (peak, average float64, ok bool) {
	var bits, seconds, shortPeak float64

	for _, s := range r.listed(window) {
		d := s.seconds(r.timescale)
		if d <= 0 {
			continue
		}

		rate := float64(s.size*8) / d
		if d < short {
			shortPeak = max(shortPeak, rate)
		} else {
			peak = max(peak, rate)
		}

		bits += float64(s.size * 8)
		seconds += d
	}

	if seconds == 0 {
		return 0, 0, false
	}

	if peak == 0 {
		peak = shortPeak
	}

	return max(peak, bits/seconds), bits / seconds, true
}
