package packager

import (
	"fmt"
	"time"
)

// StillSource is the video segment a still picture is decoded from.
type StillSource struct {
	Init    []byte // the segment's init segment
	Segment []byte

	// Offset is the time of the picture from the segment's first one.
	Offset time.Duration

	// Key names the segment, for caches: rendition, session and sequence
	// number.
	Key string
}

// Still finds the picture a thumbnail shows, in the video rendition with the
// largest pictures: with latest, the first picture (a keyframe) of its newest
// segment; otherwise the picture at time at from the start of its first
// listed segment (the last one when at is past the end). It fails with
// ErrNotFound when there is no video segment.
func (p *Presentation) Still(at time.Duration, latest bool) (*StillSource, error) {
	p.mu.Lock()

	var r *rendition
	for _, c := range p.renditions {
		if c.video && len(c.segments) > 0 && (r == nil || c.width*c.height > r.width*r.height) {
			r = c
		}
	}

	if r == nil {
		p.mu.Unlock()

		return nil, fmt.Errorf("still: no video segment: %w", ErrNotFound)
	}

	listed := r.listed(p.Window)
	seg, offset := listed[len(listed)-1], time.Duration(0)

	if !latest {
		seg, offset = segmentAt(listed, r.timescale, at)
	}

	init, key := p.initIn(r, seg.session), p.segmentKey(r, seg.seq)
	store := p.Store
	p.mu.Unlock()

	data, err := store.Get(key)
	if err != nil {
		return nil, fmt.Errorf("still: segment %s: %w", key, err)
	}

	return &StillSource{Init: init, Segment: data, Offset: offset, Key: key}, nil
}

// segmentAt returns the segment of listed playing at time at from the first
// one's start, counting their durations (gaps between broadcasts left out),
// and at's offset into it.
func segmentAt(listed []*segment, timescale uint32, at time.Duration) (*segment, time.Duration) {
	var start time.Duration

	for _, s := range listed {
		d := tickDuration(s.duration, timescale)
		if at < start+d {
			return s, max(at-start, 0)
		}

		start += d
	}

	last := listed[len(listed)-1]

	return last, tickDuration(last.duration, timescale)
}
