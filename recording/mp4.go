package recording

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/pmp4"

	"github.com/onair/onair/packager"
)

// ErrNothingToDownload is returned by WriteMP4 for a recording without a
// segment of video or audio.
var ErrNothingToDownload = errors.New("recording has no segment to download")

// WriteMP4 writes the recording of video as one progressive MP4, moov
// first: the top video rendition and the first audio rendition, their
// samples copied from the segments without re-encoding. Broadcasts joined
// after a reconnect follow each other on one timeline; their pictures keep
// the sample description of the first (the ladder's encoder settings do
// not change between them).
func WriteMP4(w io.Writer, storage Storage, video string) error {
	x, err := Load(storage, video)
	if err != nil {
		return err
	}

	var picked []*packager.RecordedRendition

	if v := x.top(); v != nil {
		picked = append(picked, v)
	}

	for i := range x.Renditions {
		if r := &x.Renditions[i]; !r.Info.Video && len(r.Segments) > 0 {
			picked = append(picked, r)

			break
		}
	}

	if len(picked) == 0 {
		return fmt.Errorf("video %s: %w", video, ErrNothingToDownload)
	}

	var pres pmp4.Presentation
	var starts []time.Duration

	for i, r := range picked {
		track, start, err := mp4Track(storage, video, r, i+1)
		if err != nil {
			return fmt.Errorf("video %s: rendition %s: %w", video, r.Info.Name, err)
		}

		pres.Tracks = append(pres.Tracks, track)
		starts = append(starts, start)
	}

	// A track that starts later than the other waits for it (an edit list).
	first := min(starts[0], starts[len(starts)-1])
	for i, t := range pres.Tracks {
		t.TimeOffset = int32((starts[i] - first) * time.Duration(t.TimeScale) / time.Second)
	}

	return pres.Marshal(w)
}

// top returns the video rendition with the largest pictures that has
// segments, or nil.
func (x *Index) top() *packager.RecordedRendition {
	var best *packager.RecordedRendition

	for i := range x.Renditions {
		r := &x.Renditions[i]
		if !r.Info.Video || len(r.Segments) == 0 {
			continue
		}

		if best == nil || r.Info.Width*r.Info.Height > best.Info.Width*best.Info.Height {
			best = r
		}
	}

	return best
}

// mp4Track describes r's samples as track id, each reading its payload from
// its segment when the MP4 is written; start is the first sample's decode
// time.
func mp4Track(storage Storage, video string, r *packager.RecordedRendition,
	id int) (*pmp4.Track, time.Duration, error) {
	first := r.Segments[0]

	var init fmp4.Init
	if err := init.Unmarshal(bytes.NewReader(r.Inits[first.Session])); err != nil {
		return nil, 0, fmt.Errorf("init segment: %w", err)
	}

	if len(init.Tracks) != 1 {
		return nil, 0, fmt.Errorf("init segment has %d tracks, want 1", len(init.Tracks))
	}

	t := &pmp4.Track{ID: id, TimeScale: init.Tracks[0].TimeScale, Codec: init.Tracks[0].Codec}
	src := &segmentSource{storage: storage, video: video, rendition: r.Info.Name}

	for i, seg := range r.Segments {
		samples, err := src.samples(seg)
		if err != nil {
			return nil, 0, err
		}

		for j, s := range samples {
			t.Samples = append(t.Samples, &pmp4.Sample{
				Duration:        s.Duration,
				PTSOffset:       s.PTSOffset,
				IsNonSyncSample: s.IsNonSyncSample,
				PayloadSize:     uint32(len(s.Payload)),
				GetPayload:      src.payload(i, seg, j),
			})
		}
	}

	start := time.Duration(first.Start) * time.Second / time.Duration(t.TimeScale)

	return t, start, nil
}

// segmentSource reads a rendition's segments, keeping the last one parsed:
// the MP4 writer asks for the samples of each track in order.
type segmentSource struct {
	storage   Storage
	video     string
	rendition string

	cached int
	parsed []*fmp4.Sample
}

// samples reads and parses one segment.
func (s *segmentSource) samples(seg packager.SegmentInfo) ([]*fmp4.Sample, error) {
	name := fileName(s.video, s.rendition, seg.Session, "seg_"+fmt.Sprint(seg.Seq)+".m4s")

	data, err := s.storage.Read(name)
	if err != nil {
		return nil, err
	}

	var parts fmp4.Parts
	if err := parts.Unmarshal(data); err != nil {
		return nil, fmt.Errorf("segment %d: %w", seg.Seq, err)
	}

	var out []*fmp4.Sample

	for _, p := range parts {
		for _, t := range p.Tracks {
			out = append(out, t.Samples...)
		}
	}

	return out, nil
}

// payload returns the reader of sample j of segment i.
func (s *segmentSource) payload(i int, seg packager.SegmentInfo, j int) func() ([]byte, error) {
	return func() ([]byte, error) {
		if s.parsed == nil || s.cached != i {
			parsed, err := s.samples(seg)
			if err != nil {
				return nil, err
			}

			s.cached, s.parsed = i, parsed
		}

		if j >= len(s.parsed) {
			return nil, fmt.Errorf("segment %d changed on disk", seg.Seq)
		}

		return s.parsed[j].Payload, nil
	}
}
