package packager

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"time"
)

const (
	// partsListed is how many finished segments, the newest, list their
	// parts in an LL-HLS playlist: they span the three target durations at
	// the live edge that RFC 8216bis 4.4.4.9 asks parts for.
	partsListed = 3

	// partHoldBackParts is PART-HOLD-BACK in part targets; RFC 8216bis
	// 4.4.3.8 asks at least two and recommends three.
	partHoldBackParts = 3

	pdtLayout = "2006-01-02T15:04:05.000Z07:00"
)

// LowLatencyPlaylist returns the LL-HLS media playlist of the named
// rendition (RFC 8216bis): its newest Window segments with the parts of the
// last ones and of the open segment, a preload hint for the next part, and a
// rendition report for every other rendition. It fails with ErrNotFound for
// an unknown name.
func (p *Presentation) LowLatencyPlaylist(name string) ([]byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()

	r := p.byName[name]
	if r == nil {
		return nil, fmt.Errorf("rendition %q: %w", name, ErrNotFound)
	}

	return p.lowLatencyPlaylist(r), nil
}

func (p *Presentation) lowLatencyPlaylist(r *rendition) []byte {
	listed := r.listed(p.Window)

	first := r.nextSeq
	if len(listed) > 0 {
		first = listed[0].seq
	}

	partTarget := p.PartDuration.Seconds()

	var b bytes.Buffer

	fmt.Fprintf(&b, "#EXTM3U\n#EXT-X-VERSION:%d\n#EXT-X-TARGETDURATION:%d\n", hlsVersion,
		p.targetDuration())
	fmt.Fprintf(&b, "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=%.3f\n",
		partHoldBackParts*partTarget)
	fmt.Fprintf(&b, "#EXT-X-PART-INF:PART-TARGET=%.3f\n#EXT-X-MEDIA-SEQUENCE:%d\n",
		partTarget, first)

	if disc := r.discontinuitySequence(p.Window); disc > 0 {
		fmt.Fprintf(&b, "#EXT-X-DISCONTINUITY-SEQUENCE:%d\n", disc)
	}

	b.WriteString("#EXT-X-INDEPENDENT-SEGMENTS\n")
	mapTag(&b, p.firstSession(listed))

	for i, s := range listed {
		if s.discontinuity && i > 0 {
			b.WriteString("#EXT-X-DISCONTINUITY\n")
		}

		if i > 0 && s.session != listed[i-1].session {
			mapTag(&b, s.session)
		}

		if i == 0 || s.discontinuity {
			fmt.Fprintf(&b, "#EXT-X-PROGRAM-DATE-TIME:%s\n", s.wall.UTC().Format(pdtLayout))
		}

		if s.lost {
			fmt.Fprintf(&b, "#EXT-X-GAP\n#EXTINF:%.5f,\n%s/%s\n", s.seconds(r.timescale),
				s.session, segmentURI(s.seq))

			continue
		}

		if i >= len(listed)-partsListed {
			p.writeParts(&b, r, s.session, s.seq, s.parts)
		}

		fmt.Fprintf(&b, "#EXTINF:%.5f,\n%s/%s\n", s.seconds(r.timescale), s.session,
			segmentURI(s.seq))
	}

	if r.open && len(r.parts) > 0 {
		disc := r.disc && len(r.segments) > 0
		if disc && len(listed) > 0 {
			b.WriteString("#EXT-X-DISCONTINUITY\n")
		}

		if len(listed) > 0 && listed[len(listed)-1].session != p.session {
			mapTag(&b, p.session)
		}

		if len(listed) == 0 || disc {
			wall := p.wallZero.Add(tickDuration(r.segStart, r.timescale))
			fmt.Fprintf(&b, "#EXT-X-PROGRAM-DATE-TIME:%s\n", wall.UTC().Format(pdtLayout))
		}

		p.writeParts(&b, r, p.session, r.nextSeq, r.parts)
	}

	if p.ended {
		b.WriteString("#EXT-X-ENDLIST\n")
	} else {
		msn, idx := r.nextPart()
		fmt.Fprintf(&b, "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"%s/%s\"\n", p.session,
			partURI(msn, idx))
	}

	p.writeReports(&b, r)

	return b.Bytes()
}

// writeParts lists the parts of segment seq.
func (p *Presentation) writeParts(b *bytes.Buffer, r *rendition, session string, seq uint64,
	parts []*part) {
	for i, pt := range parts {
		fmt.Fprintf(b, "#EXT-X-PART:DURATION=%.5f,URI=\"%s/%s\"", pt.seconds(r.timescale),
			session, partURI(seq, i))

		if pt.independent {
			b.WriteString(",INDEPENDENT=YES")
		}

		b.WriteByte('\n')
	}
}

// writeReports adds an EXT-X-RENDITION-REPORT for every rendition but r that
// has a part, so that a player switching to it knows where its edge is
// (RFC 8216bis 4.4.5.4).
func (p *Presentation) writeReports(b *bytes.Buffer, r *rendition) {
	for _, other := range p.renditions {
		if other == r {
			continue
		}

		msn, idx, ok := other.lastPart()
		if !ok {
			continue
		}

		fmt.Fprintf(b, "#EXT-X-RENDITION-REPORT:URI=\"../%s/%s\",LAST-MSN=%d,LAST-PART=%d\n",
			other.name, lowLatencyPlaylistName, msn, idx)
	}
}

// Part returns part idx of media segment seq of the named rendition, or
// ErrNotFound when there is no such rendition or part, or it is not kept.
func (p *Presentation) Part(name string, seq uint64, idx int) ([]byte, error) {
	p.mu.Lock()
	r, store := p.byName[name], p.Store

	if r == nil {
		p.mu.Unlock()

		return nil, fmt.Errorf("rendition %q: %w", name, ErrNotFound)
	}

	// Parts of the open segment are slices of its bytes, which only grow.
	if seq == r.nextSeq && r.open && idx >= 0 && idx < len(r.parts) {
		pt := r.parts[idx]
		data := r.segData[pt.offset : pt.offset+pt.size : pt.offset+pt.size]
		p.mu.Unlock()

		return data, nil
	}

	s := r.segmentBySeq(seq)
	if s == nil || s.lost || idx < 0 || idx >= len(s.parts) {
		p.mu.Unlock()

		return nil, fmt.Errorf("rendition %q part %d.%d: %w", name, seq, idx, ErrNotFound)
	}

	pt, key := s.parts[idx], p.segmentKey(r, seq)
	p.mu.Unlock()

	data, err := store.Get(key)
	if err != nil {
		return nil, fmt.Errorf("rendition %q part %d.%d: %w", name, seq, idx, err)
	}

	if pt.offset+pt.size > len(data) {
		return nil, fmt.Errorf("rendition %q part %d.%d: segment of %d bytes is shorter "+
			"than the part's end at %d", name, seq, idx, len(data), pt.offset+pt.size)
	}

	return data[pt.offset : pt.offset+pt.size : pt.offset+pt.size], nil
}

// AwaitPart blocks until the named rendition has segment msn's part idx
// (idx negative: the whole segment), or a later part, or until the
// presentation ends, as a blocking playlist reload asks (RFC 8216bis
// 6.2.5.2). It fails at once with ErrTooFarAhead when msn is more than two
// segments, or idx more than three parts, past the live edge; with
// ErrNotFound for an unknown rendition; and with ctx's error when ctx ends
// first.
func (p *Presentation) AwaitPart(ctx context.Context, name string, msn uint64, idx int) error {
	return p.await(ctx, name, func(r *rendition) (bool, error) {
		if r.has(msn, idx) {
			return true, nil
		}

		if r.tooFarAhead(msn, max(idx, 0)) {
			return false, fmt.Errorf("rendition %q segment %d part %d, edge at segment %d: %w",
				r.name, msn, idx, r.nextSeq, ErrTooFarAhead)
		}

		return false, nil
	})
}

// awaitPartURI blocks until part idx of segment seq exists or never will:
// its segment finished without it, or the presentation ended. A part more
// than two segments ahead fails at once with ErrNotFound.
func (p *Presentation) awaitPartURI(ctx context.Context, name string, seq uint64,
	idx int) error {
	return p.await(ctx, name, func(r *rendition) (bool, error) {
		if seq < r.nextSeq || (r.open && seq == r.nextSeq && idx < len(r.parts)) {
			return true, nil
		}

		if r.tooFarAhead(seq, idx) {
			return false, fmt.Errorf("rendition %q part %d.%d: %w", r.name, seq, idx,
				ErrNotFound)
		}

		return false, nil
	})
}

// await calls ready under the lock each time the presentation changes, until
// it says done or fails, the presentation ends, or ctx ends.
func (p *Presentation) await(ctx context.Context, name string,
	ready func(*rendition) (bool, error)) error {
	for {
		p.mu.Lock()
		r, ended, updated := p.byName[name], p.ended, p.updated

		var done bool
		var err error

		if r != nil {
			done, err = ready(r)
		}
		p.mu.Unlock()

		switch {
		case r == nil:
			return fmt.Errorf("rendition %q: %w", name, ErrNotFound)
		case done || ended:
			return nil
		case err != nil:
			return err
		}

		if err := p.sleep(ctx, updated); err != nil {
			return err
		}
	}
}

// TargetDuration returns the playlists' EXT-X-TARGETDURATION; a blocking
// reload should give up after three of them (RFC 8216bis 6.2.5.2).
func (p *Presentation) TargetDuration() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()

	if !p.started {
		return time.Duration(math.Ceil(DefaultSegmentDuration.Seconds())) * time.Second
	}

	return time.Duration(p.targetDuration()) * time.Second
}

// sleep waits for updated to close or ctx to end, counted in p.waiting.
func (p *Presentation) sleep(ctx context.Context, updated <-chan struct{}) error {
	p.mu.Lock()
	p.waiting++
	p.mu.Unlock()

	defer func() {
		p.mu.Lock()
		p.waiting--
		p.mu.Unlock()
	}()

	select {
	case <-updated:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Waiting returns how many readers are waiting for a part or a segment.
func (p *Presentation) Waiting() int {
	p.mu.Lock()
	defer p.mu.Unlock()

	return p.waiting
}
