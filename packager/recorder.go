package packager

import (
	"time"

	"github.com/onair/onair/ingest/stream"
)

// Recorder receives every init segment and every finished media segment of a
// presentation, the same bytes that live playback serves, so that a recording
// of the broadcast loses none of them. Its methods are called with the
// presentation's lock held, from the goroutine that writes units: they must
// not block for long.
type Recorder interface {
	// RecordInit is called once for each rendition, at Start.
	RecordInit(info RenditionInfo, init []byte)

	// RecordSegment is called for each media segment as it is finished,
	// including the last, part-filled one that End cuts.
	RecordSegment(rendition string, seg SegmentInfo, data []byte)
}

// RenditionInfo describes a rendition for its playlists and MPD.
type RenditionInfo struct {
	Name      string  `json:"name"`
	Video     bool    `json:"video"`
	Timescale uint32  `json:"timescale"`
	Codecs    string  `json:"codecs"`
	Width     int     `json:"width,omitempty"`
	Height    int     `json:"height,omitempty"`
	FrameRate float64 `json:"frameRate,omitempty"`
	Channels  int     `json:"channels,omitempty"`
	Bitrate   int     `json:"bitrate,omitempty"`
}

// SegmentInfo describes one finished media segment of a rendition.
type SegmentInfo struct {
	Seq      uint64 `json:"seq"`
	Start    uint64 `json:"start"`    // decode time of the first sample, in the timescale
	Duration uint64 `json:"duration"` // in the timescale
	Size     int    `json:"size"`

	// Discontinuity is set on a segment that follows a gap in its rendition.
	Discontinuity bool `json:"discontinuity,omitempty"`

	// Wall is the program date-time of the first sample.
	Wall time.Time `json:"wall"`
}

// info describes r for a Recorder.
func (r *rendition) info() RenditionInfo {
	return RenditionInfo{
		Name:      r.name,
		Video:     r.video,
		Timescale: r.timescale,
		Codecs:    r.codecs,
		Width:     r.width,
		Height:    r.height,
		FrameRate: r.frameRate,
		Channels:  r.track.Channels,
		Bitrate:   r.track.Bitrate,
	}
}

// segmentInfo describes s for a Recorder.
func (s *segment) info() SegmentInfo {
	return SegmentInfo{Seq: s.seq, Start: s.start, Duration: s.duration, Size: s.size,
		Discontinuity: s.discontinuity, Wall: s.wall}
}

// RecordedRendition is a rendition as a recording kept it: its description,
// init segment and every segment, oldest first.
type RecordedRendition struct {
	Info     RenditionInfo
	Init     []byte
	Segments []SegmentInfo
}

// Recorded returns an ended presentation over the segments of a recording,
// read from store under the keys a live presentation with the same session
// would use ("NAME/SESSION/seg_SEQ.m4s"). Its playlists list every segment
// and end with EXT-X-ENDLIST; its MPD is static. It fails with ErrNoTracks
// when no rendition has a segment.
func Recorded(session string, renditions []RecordedRendition, store Store) (*Presentation,
	error) {
	p := &Presentation{Store: store, session: session, started: true, ended: true,
		anchored: true}
	p.setDefaults()
	p.updated = make(chan struct{})
	p.byTrack = map[*stream.Track]*rendition{}
	p.byID = map[int]*rendition{}
	p.byName = map[string]*rendition{}

	for _, rr := range renditions {
		if len(rr.Segments) == 0 || p.byName[rr.Info.Name] != nil {
			continue
		}

		r := recordedRendition(rr)
		p.renditions = append(p.renditions, r)
		p.byName[r.name] = r
		p.hasVideo = p.hasVideo || r.video
		p.Window = max(p.Window, len(r.segments))
	}

	if len(p.renditions) == 0 {
		return nil, ErrNoTracks
	}

	return p, nil
}

// recordedRendition rebuilds a finished rendition from its record.
func recordedRendition(rr RecordedRendition) *rendition {
	in := rr.Info
	r := &rendition{
		name: in.Name, video: in.Video, timescale: in.Timescale, codecs: in.Codecs,
		width: in.Width, height: in.Height, frameRate: in.FrameRate, init: rr.Init,
		track: &stream.Track{Name: in.Name, Channels: in.Channels, Bitrate: in.Bitrate},
	}

	for i, s := range rr.Segments {
		r.segments = append(r.segments, &segment{seq: s.Seq, start: s.Start,
			duration: s.Duration, size: s.Size, discontinuity: s.Discontinuity && i > 0,
			wall: s.Wall})
	}

	r.nextSeq = rr.Segments[len(rr.Segments)-1].Seq + 1

	return r
}
