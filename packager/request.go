package packager

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Kind says what a resource of the presentation is.
type Kind int

// Kinds of resources.
const (
	KindMultivariant Kind = iota + 1
	KindMediaPlaylist
	KindInit
	KindSegment
	KindPart
	KindMPD
)

// Resource is one file of the presentation's URI scheme.
type Resource struct {
	Kind Kind

	// Video is true for the init and media segments and parts of a video
	// rendition.
	Video bool

	// Blocked is true for a playlist answered after a blocking reload
	// waited for its part.
	Blocked bool

	Data []byte

	// Duration is the media time a segment or part adds to what a viewer
	// watched: its duration for video, and for audio only in a presentation
	// without video; zero for everything else.
	Duration time.Duration
}

// Request is what a player asks of Serve: a URI and what its query string
// says.
type Request struct {
	// URI is a path relative to the multivariant playlist, as Open takes.
	URI string

	// LowLatency asks for the LL-HLS multivariant playlist (protocol=llhls).
	LowLatency bool

	// Reload, when set on an LL-HLS media playlist, is a blocking reload.
	Reload *Reload

	// Wait holds a request for a part that is not written yet (a preload
	// hint) until it is, or until it is known never to come.
	Wait bool

	// ClockURL is the UTCTiming URL written into the MPD, relative to it.
	ClockURL string
}

// Reload is a blocking playlist reload, _HLS_msn and _HLS_part
// (RFC 8216bis 6.2.5.2).
type Reload struct {
	MSN uint64

	// Part is the part index waited for; negative waits for the whole
	// segment.
	Part int
}

// Open returns the resource at uri without waiting: see Serve for the URIs.
func (p *Presentation) Open(uri string) (*Resource, error) {
	return p.Serve(context.Background(), Request{URI: uri})
}

// Serve returns the resource req names: "video.m3u8" (the LL-HLS one with
// LowLatency), "video.mpd", "NAME/index.m3u8", "NAME/llhls.m3u8",
// "NAME/SESSION/init.mp4", "NAME/SESSION/seg_SEQ.m4s" or
// "NAME/SESSION/part_SEQ_IDX.m4s". A blocking reload or a Wait for a part
// holds the answer until the part comes, the presentation ends or ctx ends
// (then ctx's error). It fails with ErrNotFound for anything else, including
// another presentation's session, and with ErrTooFarAhead for a reload past
// the limits of RFC 8216bis 6.2.5.2.
func (p *Presentation) Serve(ctx context.Context, req Request) (*Resource, error) {
	switch req.URI {
	case MultivariantName:
		if req.LowLatency {
			return &Resource{Kind: KindMultivariant, Data: p.LowLatencyMultivariant()}, nil
		}

		return &Resource{Kind: KindMultivariant, Data: p.Multivariant()}, nil

	case MPDName:
		data, err := p.MPD(req.ClockURL)

		return &Resource{Kind: KindMPD, Data: data}, err
	}

	parts := strings.Split(req.URI, "/")
	name := parts[0]

	p.mu.Lock()
	r := p.byName[name]
	ok := r != nil && (len(parts) != 3 || p.knownURI(r, parts[1], parts[2]))

	var init []byte
	if ok && len(parts) == 3 && parts[2] == initName {
		init = p.initIn(r, parts[1])
	}
	p.mu.Unlock()

	if !ok {
		return nil, fmt.Errorf("uri %q: %w", req.URI, ErrNotFound)
	}

	switch {
	case len(parts) == 2 && parts[1] == mediaPlaylistName:
		data, err := p.MediaPlaylist(name)

		return &Resource{Kind: KindMediaPlaylist, Data: data}, err

	case len(parts) == 2 && parts[1] == lowLatencyPlaylistName:
		return p.serveLowLatency(ctx, name, req.Reload)

	case len(parts) != 3:
		return nil, fmt.Errorf("uri %q: %w", req.URI, ErrNotFound)

	case parts[2] == initName:
		return &Resource{Kind: KindInit, Video: r.video, Data: init}, nil
	}

	if seq, idx, ok := parsePartURI(parts[2]); ok {
		return p.servePart(ctx, name, seq, idx, req.Wait, r.video)
	}

	seq, ok := parseSegmentURI(parts[2])
	if !ok {
		return nil, fmt.Errorf("uri %q: %w", req.URI, ErrNotFound)
	}

	data, err := p.Segment(name, seq)
	if err != nil {
		return nil, err
	}

	return &Resource{Kind: KindSegment, Video: r.video, Data: data,
		Duration: p.watchedDuration(name, seq, -1)}, nil
}

// serveLowLatency answers an LL-HLS media playlist, after the part a
// blocking reload asks for.
func (p *Presentation) serveLowLatency(ctx context.Context, name string,
	reload *Reload) (*Resource, error) {
	if reload != nil {
		err := p.AwaitPart(ctx, name, reload.MSN, reload.Part)
		if err != nil {
			return nil, err
		}
	}

	data, err := p.LowLatencyPlaylist(name)
	if err != nil {
		return nil, err
	}

	return &Resource{Kind: KindMediaPlaylist, Blocked: reload != nil, Data: data}, nil
}

// servePart answers a part, first waiting for it when wait is set.
func (p *Presentation) servePart(ctx context.Context, name string, seq uint64, idx int,
	wait, video bool) (*Resource, error) {
	if wait {
		err := p.awaitPartURI(ctx, name, seq, idx)
		if err != nil {
			return nil, err
		}
	}

	data, err := p.Part(name, seq, idx)
	if err != nil {
		return nil, err
	}

	return &Resource{Kind: KindPart, Video: video, Data: data,
		Duration: p.watchedDuration(name, seq, idx)}, nil
}

// knownURI reports whether file ("init.mp4", a segment or a part) of r
// belongs to session: the session its segment was cut in, or for an init
// segment, any session of r. Files of other presentations are not found.
func (p *Presentation) knownURI(r *rendition, session, file string) bool {
	if file == initName {
		return p.initIn(r, session) != nil
	}

	seq, ok := parseSegmentURI(file)
	if !ok {
		seq, _, ok = parsePartURI(file)
	}

	if !ok {
		return session == p.session
	}

	return p.segmentSession(r, seq) == session
}
