package packager

import (
	"fmt"
	"time"

	"github.com/onair/onair/ingest/stream"
)

// Pause finishes every open segment, the way End does, but leaves the
// presentation live: its playlists do not end, and Resume may carry it on
// with a returning publisher's tracks. Writes while paused are dropped.
func (p *Presentation) Pause() {
	p.mu.Lock()
	defer p.mu.Unlock()

	if !p.started || p.ended || p.paused {
		return
	}

	for _, r := range p.renditions {
		p.finish(r, r.lastDelta)
	}

	p.paused = true
	p.changed = true
	p.announce()
	p.Log.Info("presentation paused")
}

// Resume carries a paused presentation on with tracks, the output of the
// publisher's next broadcast: a rendition of the same name continues, after
// an EXT-X-DISCONTINUITY and with a new init segment under a new session
// token (a new DASH Period); media sequence numbers and decode times keep
// rising. A rendition the new tracks lack stays listed, inactive; a new one
// is added. It fails when the presentation is not paused or no track can
// be packaged.
func (p *Presentation) Resume(tracks []*stream.Track) error {
	p.mu.Lock()
	defer p.mu.Unlock()

	if !p.paused || p.ended {
		return fmt.Errorf("resume: presentation not paused")
	}

	session, err := newSession()
	if err != nil {
		return err
	}

	resumed, err := p.resumeRenditions(session, tracks)
	if err != nil {
		return err
	}

	// Decode times go on a lead past the end of the longest rendition, so
	// that the new segments follow the old ones on one timeline.
	var end time.Duration
	for _, r := range p.renditions {
		if n := len(r.segments); n > 0 {
			last := r.segments[n-1]
			end = max(end, tickDuration(last.start+last.duration, r.timescale))
		}
	}

	p.resumeAt = end
	p.session = session
	p.sessions = append(p.sessions, session)
	p.anchored = false
	p.paused = false

	for _, r := range p.renditions {
		if !resumed[r] {
			r.inactive = true
		}
	}

	p.changed = true
	p.announce()
	p.Log.Info("presentation resumed", "renditions", len(resumed), "session", session)

	return nil
}

// resumeRenditions describes tracks as the renditions of session: the
// existing rendition of the same name and kind, or a new one.
func (p *Presentation) resumeRenditions(session string,
	tracks []*stream.Track) (map[*rendition]bool, error) {
	byTrack := map[*stream.Track]*rendition{}
	byID := map[int]*rendition{}
	resumed := map[*rendition]bool{}
	// The init segments of the sessions before stay readable.
	for _, r := range p.renditions {
		if r.inits == nil {
			r.inits = map[string][]byte{}
		}

		if _, ok := r.inits[p.session]; !ok {
			r.inits[p.session] = p.initIn(r, p.session)
		}
	}

	for _, t := range tracks {
		fresh, err := newRendition(t.Name, t)
		if err != nil {
			p.Log.Warn("track not packaged", "track", t.ID, "name", t.Name, "error", err)

			continue
		}

		r := p.byName[t.Name]
		if r == nil || r.video != fresh.video || resumed[r] {
			fresh.name = p.renditionName(t)
			r = fresh
			p.renditions = append(p.renditions, r)
			p.byName[r.name] = r
			p.hasVideo = p.hasVideo || r.video
		} else {
			r.resume(fresh)
		}

		if r.inits == nil {
			r.inits = map[string][]byte{}
		}

		r.inits[session] = r.init

		err = p.Store.Put(r.name+"/"+session+"/"+initName, r.init)
		if err != nil {
			return nil, fmt.Errorf("rendition %s: store init segment: %w", r.name, err)
		}

		if p.Recorder != nil {
			p.Recorder.RecordInit(r.info(session), r.init)
		}

		byTrack[t], byID[t.ID] = r, r
		resumed[r] = true
	}

	if len(resumed) == 0 {
		return nil, ErrNoTracks
	}

	p.byTrack, p.byID = byTrack, byID

	return resumed, nil
}

// resume takes fresh's description of the rendition's new track and readies
// r to cut its next segment after a discontinuity.
func (r *rendition) resume(fresh *rendition) {
	r.track, r.codecs, r.init = fresh.track, fresh.codecs, fresh.init
	r.timescale = fresh.timescale
	r.width, r.height, r.frameRate = fresh.width, fresh.height, fresh.frameRate
	r.open, r.pending, r.samples, r.parts, r.segData = false, nil, nil, nil, nil
	r.last, r.rate, r.nominal, r.onGrid = nil, fresh.rate, fresh.rate, true
	r.waitKey = r.video
	r.disc = len(r.segments) > 0
	r.inactive = false
}
