package packager

import "time"

// watchedDuration is the Duration of a Resource for a segment (idx < 0) or
// a part of rendition name: its media time when the rendition is video, or
// audio in a presentation without video, and zero otherwise, so that a
// player fetching video and audio side by side is counted once.
func (p *Presentation) watchedDuration(name string, seq uint64, idx int) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()

	r := p.byName[name]
	if r == nil || r.timescale == 0 || (!r.video && p.hasVideoLocked()) {
		return 0
	}

	var ticks uint64

	switch s := r.segmentBySeq(seq); {
	case idx >= 0 && seq == r.nextSeq && r.open && idx < len(r.parts):
		ticks = r.parts[idx].duration
	case s == nil:
		return 0
	case idx < 0:
		ticks = s.duration
	case idx < len(s.parts):
		ticks = s.parts[idx].duration
	}

	return time.Duration(float64(ticks) / float64(r.timescale) * float64(time.Second))
}

// hasVideoLocked says whether any rendition is video; p.mu is held.
func (p *Presentation) hasVideoLocked() bool {
	for _, r := range p.byName {
		if r.video {
			return true
		}
	}

	return false
}
