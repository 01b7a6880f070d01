package packager

import (
	"cmp"
	"slices"
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
	Name string `json:"name"`

	// Session is the token in the URIs of the init segment and of the media
	// segments that follow it, until the next RecordInit of the rendition.
	Session string `json:"session"`

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
	Session  string `json:"session"` // names its init segment
	Seq      uint64 `json:"seq"`
	Start    uint64 `json:"start"`    // decode time of the first sample, in the timescale
	Duration uint64 `json:"duration"` // in the timescale
	Size     int    `json:"size"`

	// Discontinuity is set on a segment that follows a gap in its rendition.
	Discontinuity bool `json:"discontinuity,omitempty"`

	// Wall is the program date-time of the first sample.
	Wall time.Time `json:"wall"`
}

// info describes r, whose init segment is that of session, for a Recorder.
func (r *rendition) info(session string) RenditionInfo {
	return RenditionInfo{
		Name:      r.name,
		Session:   session,
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
	return SegmentInfo{Session: s.session, Seq: s.seq, Start: s.start, Duration: s.duration,
		Size: s.size, Discontinuity: s.discontinuity, Wall: s.wall}
}

// RecordedRendition is a rendition as a recording kept it: its latest
// description, its init segments by session and every segment, oldest first.
type RecordedRendition struct {
	Info     RenditionInfo
	Inits    map[string][]byte
	Segments []SegmentInfo
}

// Recorded returns an ended presentation over the segments of a recording,
// read from store under the keys of the live presentation they were cut in
// ("NAME/SESSION/seg_SEQ.m4s"). Its playlists list every segment, with
// EXT-X-DISCONTINUITY and EXT-X-MAP where the publisher came back, and end
// with EXT-X-ENDLIST; its MPD is static, one Period per session. It fails
// with ErrNoTracks when no rendition has a segment.
func Recorded(renditions []RecordedRendition, store Store) (*Presentation, error) {
	p := &Presentation{Store: store, started: true, ended: true, anchored: true}
	p.setDefaults()
	p.SegmentDuration = 0 // the longest segment's, below
	p.updated = make(chan struct{})
	p.byTrack = map[*stream.Track]*rendition{}
	p.byID = map[int]*rendition{}
	p.byName = map[string]*rendition{}

	for _, rr := range renditions {
		if len(rr.Segments) == 0 || p.byName[rr.Info.Name] != nil {
			continue
		}

		r := recordedRendition(rr)
		p.session = cmp.Or(p.session, r.segments[len(r.segments)-1].session)

		for _, s := range r.segments {
			if !slices.Contains(p.sessions, s.session) {
				p.sessions = append(p.sessions, s.session)
			}
		}
		p.renditions = append(p.renditions, r)
		p.byName[r.name] = r
		p.hasVideo = p.hasVideo || r.video
		p.Window = max(p.Window, len(r.segments))

		for _, s := range r.segments {
			p.SegmentDuration = max(p.SegmentDuration, tickDuration(s.duration, r.timescale))
		}
	}

	if len(p.renditions) == 0 {
		return nil, ErrNoTracks
	}

	// EXT-X-TARGETDURATION: the longest EXTINF rounded to the nearest
	// integer (RFC 8216 4.3.3.1).
	p.SegmentDuration = max(p.SegmentDuration.Round(time.Second), time.Second)

	return p, nil
}

// recordedRendition rebuilds a finished rendition from its record.
func recordedRendition(rr RecordedRendition) *rendition {
	in := rr.Info
	r := &rendition{
		name: in.Name, video: in.Video, timescale: in.Timescale, codecs: in.Codecs,
		width: in.Width, height: in.Height, frameRate: in.FrameRate, inits: rr.Inits,
		track: &stream.Track{Name: in.Name, Channels: in.Channels, Bitrate: in.Bitrate},
	}

	for i, s := range rr.Segments {
		r.segments = append(r.segments, &segment{session: s.Session, seq: s.Seq,
			start: s.Start, duration: s.Duration, size: s.Size,
			discontinuity: s.Discontinuity && i > 0, wall: s.Wall})
	}

	r.init = rr.Inits[r.segments[len(r.segments)-1].session]

	r.nextSeq = rr.Segments[len(rr.Segments)-1].Seq + 1

	return r
}
