package rtmp

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/onair/onair/ingest/stream"
)

// Limits of the wait for sequence headers before a broadcast starts.
const (
	// headerWait is how much media time after the first sequence header the
	// other track's header may take to arrive, when onMetaData does not say
	// which tracks exist.
	headerWait = time.Second

	// headerWallWait caps the same wait in wall-clock time, for publishers
	// whose timestamps stand still.
	headerWallWait = 3 * time.Second

	// maxPendingUnits and maxPendingBytes bound the units kept while waiting;
	// a full buffer starts the broadcast with the tracks seen so far.
	maxPendingUnits = 1024
	maxPendingBytes = 16 << 20
)

// publication turns one publisher's sequence headers and frames into
// broadcasts on the hub: it waits until the tracks are known, buffers the
// frames that arrive meanwhile and starts a new broadcast when a codec
// configuration changes. It is used from the connection's goroutine only.
type publication struct {
	pub *stream.Publisher
	log *slog.Logger
	now func() time.Time

	// video and audio are the latest tracks; once started, the ones of the
	// running broadcast.
	video, audio *stream.Track
	videoConfig  avcConfig

	// metaKnown is set once onMetaData said which tracks exist.
	metaKnown            bool
	metaVideo, metaAudio bool

	// The wait for headers runs from the first header (wall clock) and from
	// the first unit buffered (media time): sequence headers often carry a
	// timestamp of zero whatever the frames carry.
	haveHeader bool
	firstWall  time.Time
	haveUnit   bool
	firstDTS   time.Duration
	lastDTS    time.Duration

	started      bool
	keySeen      bool // the running video track has had a keyframe
	pending      []*stream.Unit
	pendingBytes int
}

// setMetadata records which tracks onMetaData announced.
func (p *publication) setMetadata(video, audio bool) {
	p.metaKnown = true
	p.metaVideo = video
	p.metaAudio = audio
}

// setVideo installs the track of a video sequence header; it reports
// whether the track changed.
func (p *publication) setVideo(t *stream.Track, c avcConfig) bool {
	if sameTrack(p.video, t) {
		return false
	}

	p.video = t
	p.videoConfig = c
	p.headerArrived()

	return true
}

// setAudio installs the track of an audio sequence header; it reports
// whether the track changed.
func (p *publication) setAudio(t *stream.Track) bool {
	if sameTrack(p.audio, t) {
		return false
	}

	p.audio = t
	p.headerArrived()

	return true
}

// headerArrived starts or restarts the broadcast after a new header.
func (p *publication) headerArrived() {
	if p.started {
		p.log.Info("codec parameters changed, starting a new broadcast")
		p.start()

		return
	}

	if !p.haveHeader {
		p.haveHeader = true
		p.firstWall = p.now()
	}

	p.maybeStart()
}

// write hands a unit of the current video or audio track to the broadcast,
// or keeps it until the broadcast starts.
func (p *publication) write(u *stream.Unit) {
	if u.Track.IsVideo() && !p.keySeen {
		if !u.Key {
			return // a decoder cannot start here
		}

		p.keySeen = true
	}

	if p.started {
		p.pub.Write(u)

		return
	}

	if !p.haveUnit {
		p.haveUnit = true
		p.firstDTS = u.DTS
	}

	p.lastDTS = u.DTS
	p.pending = append(p.pending, u)
	p.pendingBytes += u.Size()
	p.maybeStart()
}

// maybeStart starts the first broadcast once the tracks are known, the wait
// for the missing ones ran out, or the buffer is full.
func (p *publication) maybeStart() {
	if p.started || !p.haveHeader {
		return
	}

	wantVideo, wantAudio := true, true
	if p.metaKnown {
		wantVideo, wantAudio = p.metaVideo, p.metaAudio
	}

	complete := (!wantVideo || p.video != nil) && (!wantAudio || p.audio != nil)
	waited := (p.haveUnit && p.lastDTS-p.firstDTS >= headerWait) ||
		p.now().Sub(p.firstWall) >= headerWallWait
	full := len(p.pending) >= maxPendingUnits || p.pendingBytes >= maxPendingBytes

	if complete || waited || full {
		p.start()
	}
}

// start begins a broadcast with copies of the current tracks, numbered from 1,
// and writes the units buffered for them.
func (p *publication) start() {
	renamed := map[*stream.Track]*stream.Track{}
	var tracks []*stream.Track

	for _, t := range []*stream.Track{p.video, p.audio} {
		if t == nil {
			continue
		}

		c := *t
		c.ID = len(tracks) + 1
		renamed[t] = &c
		tracks = append(tracks, &c)
	}

	if p.video != nil {
		p.video = renamed[p.video]
	}

	if p.audio != nil {
		p.audio = renamed[p.audio]
	}

	p.started = true
	p.keySeen = false
	p.pub.Start(tracks)
	p.log.Info("broadcast started", "tracks", describeTracks(tracks))

	pending := p.pending
	p.pending = nil
	p.pendingBytes = 0

	for _, u := range pending {
		if t, ok := renamed[u.Track]; ok {
			u.Track = t
			p.write(u)
		}
	}
}

// describeTracks summarises tracks for a log line.
func describeTracks(tracks []*stream.Track) string {
	parts := make([]string, 0, len(tracks))
	for _, t := range tracks {
		switch {
		case t.IsVideo():
			parts = append(parts, fmt.Sprintf("%s %dx%d", t.Codec, t.Width, t.Height))

		default:
			parts = append(parts, fmt.Sprintf("%s %d Hz %d ch", t.Codec, t.SampleRate, t.Channels))
		}
	}

	return strings.Join(parts, ", ")
}
