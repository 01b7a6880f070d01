package packager

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"

	"github.com/onair/onair/ingest/stream"
)

// Defaults of a Presentation's settings.
const (
	// DefaultSegmentDuration is the segment length aimed at.
	DefaultSegmentDuration = 2 * time.Second

	// DefaultWindow is the number of segments a live media playlist lists.
	DefaultWindow = 6

	// DefaultPartDuration is the LL-HLS part target: a quarter of the default
	// segment, so that a part holds a dozen pictures (one moof per half
	// second costs about 1% of a rung's bytes) while the part hold-back of
	// three parts (RFC 8216bis 4.4.3.8) keeps players 1.5 s from the edge.
	DefaultPartDuration = 500 * time.Millisecond
)

const (
	// extraKept is how many segments are kept beyond the listed window, so
	// that a player that has just read a playlist can still fetch its first
	// segments after the window has moved on.
	extraKept = 4

	// segmentSlack: a finished segment whose unused capacity is more than
	// 1/segmentSlack of its size is copied to an exact fit before it is
	// stored.
	segmentSlack = 8

	// targetFactor sets EXT-X-TARGETDURATION to this many segment durations.
	// It stays 1 because players hold back a multiple of the target duration
	// from the live edge (hls.js three of them), so headroom costs latency.
	targetFactor = 1

	// inactiveAfter is how many segment durations a rendition may go without
	// a unit, while the others go on, before it is left out of the
	// multivariant playlist and its open segment is finished.
	inactiveAfter = 2

	// timelineLead is added to every decode time so that units a little
	// earlier than the first keyframe (reordered pictures, interleaved audio)
	// still have a positive decode time.
	timelineLead = time.Second
)

// namePattern is what a rendition name must look like to be a URI path part.
var namePattern = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}$`)

// Presentation cuts one broadcast's renditions into CMAF segments and serves
// their HLS playlists. Fill the settings, then call Start once, Write for every
// unit (calls serialized) and End. The read methods may be called from any
// goroutine at any time.
type Presentation struct {
	// SegmentDuration is the segment length aimed at; segments are cut at the
	// first keyframe at or after each multiple of it. Zero means
	// DefaultSegmentDuration. It must not change after Start.
	SegmentDuration time.Duration

	// Window is the number of segments a live media playlist lists. Zero means
	// DefaultWindow.
	Window int

	// PartDuration is the LL-HLS part target: a part ends before the sample
	// that would carry it past this length, and a segment starts a new
	// part. Zero means DefaultPartDuration. It must not change after Start.
	// A rendition at a constant rate (AAC, or H.264 whose track gives its
	// FrameRate) has a part listed as soon as its last unit is written; one
	// that strays from that rate by more than a millisecond has its parts
	// listed when the unit after their last comes.
	PartDuration time.Duration

	// Store keeps init and media segments. Nil means a new MemoryStore.
	Store Store

	// Log receives the presentation's lines; nil discards them.
	Log *slog.Logger

	// Recorder, when set, receives every init and media segment. It must not
	// change after Start.
	Recorder Recorder

	mu         sync.Mutex
	started    bool
	ended      bool
	paused     bool          // between Pause and Resume
	resumeAt   time.Duration // decode time the first unit after a Resume is put at
	session    string
	sessions   []string // every session, oldest first: one per Start or Resume
	renditions []*rendition
	byTrack    map[*stream.Track]*rendition
	byID       map[int]*rendition
	byName     map[string]*rendition
	hasVideo   bool
	anchored   bool                 // the first unit that starts a segment has come
	anchor     time.Duration        // first segment start; boundaries are multiples from it
	zero       time.Duration        // time whose decode time is zero, timelineLead before anchor
	wallZero   time.Time            // wall clock at zero
	latest     time.Duration        // highest DTS taken
	lastWarn   map[string]time.Time // throttles per-unit warnings, by message
	changed    bool                 // a part, segment or the end came during this call
	updated    chan struct{}        // closed and replaced when changed
	waiting    int                  // readers waiting on updated
}

// Start prepares a rendition for every H.264 and AAC track and writes their
// init segments. Other tracks are skipped with a warning. It fails when no
// track can be packaged or when called twice.
func (p *Presentation) Start(tracks []*stream.Track) error {
	p.mu.Lock()
	defer p.mu.Unlock()

	if p.started {
		return ErrStarted
	}

	p.setDefaults()

	session, err := newSession()
	if err != nil {
		return err
	}

	p.session = session
	p.sessions = append(p.sessions, session)
	p.updated = make(chan struct{})
	p.byTrack = map[*stream.Track]*rendition{}
	p.byID = map[int]*rendition{}
	p.byName = map[string]*rendition{}

	for _, t := range tracks {
		r, err := newRendition(p.renditionName(t), t)
		if err != nil {
			p.Log.Warn("track not packaged", "track", t.ID, "name", t.Name, "error", err)

			continue
		}

		err = p.Store.Put(p.initKey(r), r.init)
		if err != nil {
			return fmt.Errorf("rendition %s: store init segment: %w", r.name, err)
		}

		if p.Recorder != nil {
			p.Recorder.RecordInit(r.info(p.session), r.init)
		}

		p.renditions = append(p.renditions, r)
		p.byTrack[t] = r
		p.byID[t.ID] = r
		p.byName[r.name] = r
		p.hasVideo = p.hasVideo || r.video
	}

	if len(p.renditions) == 0 {
		return ErrNoTracks
	}

	p.started = true
	p.Log.Info("presentation started", "renditions", len(p.renditions),
		"segment_duration", p.SegmentDuration, "session", p.session)

	return nil
}

func (p *Presentation) setDefaults() {
	if p.SegmentDuration <= 0 {
		p.SegmentDuration = DefaultSegmentDuration
	}

	if p.Window <= 0 {
		p.Window = DefaultWindow
	}

	if p.PartDuration <= 0 {
		p.PartDuration = DefaultPartDuration
	}

	p.PartDuration = min(p.PartDuration, p.SegmentDuration)

	if p.Store == nil {
		p.Store = &MemoryStore{}
	}

	if p.Log == nil {
		p.Log = slog.New(slog.DiscardHandler)
	}
}

// newSession returns a random token that makes this presentation's segment
// URIs differ from those of earlier broadcasts of the same input, so that
// caches holding those for their whole life never serve them instead.
func newSession() (string, error) {
	b := make([]byte, 4)

	_, err := rand.Read(b)
	if err != nil {
		return "", fmt.Errorf("session token: %w", err)
	}

	return hex.EncodeToString(b), nil
}

// renditionName returns the track's name when it is a usable, unused URI path
// part, and a name made from its kind and ID otherwise.
func (p *Presentation) renditionName(t *stream.Track) string {
	if _, used := p.byName[t.Name]; namePattern.MatchString(t.Name) && !used {
		return t.Name
	}

	prefix := "a"
	if t.IsVideo() {
		prefix = "v"
	}

	return prefix + strconv.Itoa(t.ID)
}

// Write adds a unit to its rendition, finishing a segment when the unit starts
// the next one. Units of unknown tracks, units before Start or after End,
// pictures before a rendition's first keyframe and units whose DTS does not
// rise are dropped.
func (p *Presentation) Write(u *stream.Unit) {
	p.mu.Lock()
	defer p.mu.Unlock()

	if !p.started || p.ended || p.paused || u == nil {
		return
	}

	r := p.byTrack[u.Track]
	if r == nil && u.Track != nil {
		r = p.byID[u.Track.ID]
	}

	if r == nil {
		return
	}

	if !p.anchored && !p.startAnchor(r, u) {
		return
	}

	p.write(r, u)
	p.sweep()
	p.announce()
}

// announce wakes the readers waiting for a part, a segment or the end when
// one came.
func (p *Presentation) announce() {
	if !p.changed {
		return
	}

	p.changed = false
	close(p.updated)
	p.updated = make(chan struct{})
}

// startAnchor fixes the presentation's time grid at the first unit that can
// start a segment: a keyframe, or an audio frame when there is no video.
func (p *Presentation) startAnchor(r *rendition, u *stream.Unit) bool {
	if p.hasVideo && (!r.video || !u.Key) {
		return false
	}

	p.anchored = true
	p.anchor = u.PTS
	p.zero = u.PTS - p.resumeAt - timelineLead
	p.wallZero = time.Now().Add(-p.resumeAt - timelineLead)
	p.latest = u.DTS

	for _, other := range p.renditions {
		other.lastDTS = u.DTS
	}

	return true
}

// write adds u to r.
func (p *Presentation) write(r *rendition, u *stream.Unit) {
	if u.DTS < p.zero || (!r.video && u.DTS < p.anchor) {
		return
	}

	dts := ticks(u.DTS-p.zero, r.timescale)
	prev := r.pending != nil || r.last != nil

	if prev && u.DTS-r.prevDTS > p.SegmentDuration {
		p.warn("gap in rendition, segment finished early", "rendition", r.name,
			"gap", u.DTS-r.prevDTS)
		p.finish(r, r.lastDelta)
		r.disc = true
		r.waitKey = r.video
		prev = false
	}

	if prev && dts <= r.pendingTS {
		p.warn("unit dropped: dts does not rise", "rendition", r.name, "dts", u.DTS)

		return
	}

	if r.video && r.waitKey && !u.Key {
		return
	}

	t := u.DTS
	if r.video {
		t = u.PTS
	}

	cut := !r.open || (t >= r.boundary-p.tolerance(r) && (u.Key || !r.video))

	// Finish before this picture would carry the segment past the limit.
	if !cut && r.video && dts-r.segStart+r.lastDelta > p.maxTicks(r) {
		p.warn("no keyframe in time, segment finished and pictures dropped to the next",
			"rendition", r.name, "target_duration", p.targetDuration())
		p.finish(r, r.lastDelta)
		r.disc = true
		r.waitKey = true

		return
	}

	switch {
	case r.pending != nil:
		r.lastDelta = dts - r.pendingTS
		p.addPending(r, r.lastDelta)
		p.steadied(r, r.lastDelta)

		// Close the part now when the picture just taken would, lasting as
		// long as the last one, carry it past the part target: the part is
		// then fetchable one unit after its last one came, not two.
		if !cut && r.partTicks+r.lastDelta > p.partLimit(r) {
			p.flushPart(r)
		}

	case r.last != nil:
		r.lastDelta = dts - r.pendingTS
		p.settle(r, r.lastDelta)
	}

	r.complete = false

	if cut {
		if r.open {
			r.onGrid = !r.video || p.near(t, r.boundary)
			p.closeSegment(r)
		}

		p.openSegment(r, dts, t)
	} else if r.video && r.open && t >= r.boundary+slack {
		r.onGrid = false // a boundary passed without a keyframe
	}

	r.pending = u
	r.pendingTS = dts
	r.prevDTS = u.DTS
	r.lastDTS = u.DTS
	p.latest = max(p.latest, u.DTS)

	if r.nominal > 0 {
		p.addNow(r, t)
	}
}

// addNow adds r's pending unit to its open segment at once, lasting the
// rendition's nominal duration, and closes the open part when the next unit,
// coming one nominal duration later, would carry it past the part target or
// is due at the segment boundary (the preload hint then names the next
// segment's first part): the part is fetchable as soon as its last unit is
// in. t is the unit's time on the presentation's grid.
func (p *Presentation) addNow(r *rendition, t time.Duration) {
	if !p.addPending(r, r.nominal) {
		return
	}

	r.last = r.samples[len(r.samples)-1]

	if r.video {
		// The keyframe that starts the next segment follows every picture
		// before it in presentation order.
		r.maxPTS = max(r.maxPTS, t)
		t = r.maxPTS
	}

	r.complete = p.startsSegment(r, t+tickDuration(r.nominal, r.timescale))

	if r.complete || r.partTicks+r.nominal > p.partLimit(r) {
		p.flushPart(r)
	}
}

// startsSegment reports whether r's next unit, due at t, will start the next
// segment: an audio frame at or after the boundary; a picture on the
// boundary, when the last segment was cut on its boundary too (the
// transcoder puts keyframes there).
func (p *Presentation) startsSegment(r *rendition, t time.Duration) bool {
	if !r.video {
		return t >= r.boundary-time.Microsecond
	}

	return r.onGrid && p.near(t, r.boundary)
}

// settle gives r's last sample, added lasting the nominal duration, its true
// duration d now that the next unit's decode time shows it. A sample still in
// the open part takes it (moving to a part of its own when it no longer fits
// the part target); one already sent in a closed part keeps its bytes, and
// the next part starts at the true decode time, so that a small gap or
// overlap is all a variable rate costs, and the segment spans to it. A
// rendition whose samples stray from the nominal duration by more than a
// millisecond waits for the next unit, until it keeps the rate again for a
// segment (steadied).
func (p *Presentation) settle(r *rendition, d uint64) {
	s := r.last
	r.last = nil
	nominal := uint64(s.Duration)

	if d == nominal {
		return
	}

	r.segTicks = r.segTicks - nominal + d

	if n := len(r.samples); n > 0 && r.samples[n-1] == s {
		s.Duration = uint32(d)
		r.partTicks = r.partTicks - nominal + d

		if n > 1 && r.partTicks > p.partLimit(r) {
			r.samples = r.samples[:n-1]
			r.partTicks -= d
			p.flushPart(r)
			r.samples = []*fmp4.Sample{s}
			r.partTicks = d
		}
	} else if len(r.samples) == 0 {
		r.partStart = r.pendingTS + d
	}

	if strays(r, d) {
		r.nominal, r.steady = 0, 0
		p.Log.Info("rendition strays from its nominal rate: parts wait for the next unit",
			"rendition", r.name, "duration", tickDuration(d, r.timescale),
			"nominal", tickDuration(nominal, r.timescale))
	}
}

// strays reports whether a sample of d ticks is more than a millisecond off
// r's rate.
func strays(r *rendition, d uint64) bool {
	return max(d, r.rate)-min(d, r.rate) > uint64(r.timescale)/1000
}

// steadied counts the units of a rendition that strayed from its rate which
// keep it again, the last one lasting d ticks, and trusts the rate again
// after a segment's worth of them in a row (a looped or spliced source jumps
// once and goes on).
func (p *Presentation) steadied(r *rendition, d uint64) {
	if r.rate == 0 || r.nominal != 0 {
		return
	}

	if strays(r, d) {
		r.steady = 0

		return
	}

	r.steady++
	if uint64(r.steady)*r.rate >= ticks(p.SegmentDuration, r.timescale) {
		r.nominal = r.rate
		p.Log.Info("rendition keeps its nominal rate again: parts are listed with their "+
			"last unit", "rendition", r.name)
	}
}

// slack is how near a picture's time must be to a segment boundary to count
// as on it: a millisecond, for the rounding of times to ticks and back.
const slack = time.Millisecond

// near reports whether t is on boundary, within the slack.
func (p *Presentation) near(t, boundary time.Duration) bool {
	return t >= boundary-slack && t < boundary+slack
}

// tolerance is how far before a boundary a keyframe still cuts there: the
// transcoder aims its keyframes at the boundaries, and rounding or a source's
// own GOP may put them a little early.
func (p *Presentation) tolerance(r *rendition) time.Duration {
	if !r.video {
		return 0
	}

	return p.SegmentDuration / 4
}

// maxTicks is the longest a video segment may grow, in its timescale: just
// under half a second past the target duration, so that its EXTINF rounded to
// the nearest integer never exceeds it (RFC 8216 4.3.3.1).
func (p *Presentation) maxTicks(r *rendition) uint64 {
	return uint64(p.targetDuration())*uint64(r.timescale) + uint64(r.timescale)/2 - 1
}

// targetDuration returns EXT-X-TARGETDURATION in whole seconds.
func (p *Presentation) targetDuration() int {
	return int(math.Ceil(targetFactor * p.SegmentDuration.Seconds()))
}

// openSegment starts r's next segment at decode time dts (ticks); t is the
// unit's time on the presentation's grid.
func (p *Presentation) openSegment(r *rendition, dts uint64, t time.Duration) {
	tol := p.tolerance(r)
	k := floorDiv(t-p.anchor+tol, p.SegmentDuration) + 1

	r.open = true
	r.samples = nil
	r.size = 0
	r.segStart = dts
	r.segTicks = 0
	r.segData = nil
	r.parts = nil
	r.partStart = dts
	r.partTicks = 0
	r.boundary = p.anchor + time.Duration(k)*p.SegmentDuration
	r.waitKey = false
	r.maxPTS = t

	if r.inactive {
		r.inactive = false
		p.Log.Info("rendition resumed", "rendition", r.name)
	}
}

// addPending appends r's pending unit to its open segment, in a new part
// when it would carry the open one past the part target. It reports whether
// the unit was taken.
func (p *Presentation) addPending(r *rendition, duration uint64) bool {
	if r.partTicks > 0 && r.partTicks+duration > p.partLimit(r) {
		p.flushPart(r)
	}

	err := r.addPending(duration)
	if err != nil {
		p.warn("unit dropped", "error", err)

		return false
	}

	return true
}

// finish ends r's open segment with its pending unit lasting duration ticks
// (a default frame when zero).
func (p *Presentation) finish(r *rendition, duration uint64) {
	if !r.open {
		return
	}

	if duration == 0 {
		duration = r.defaultDuration()
	}

	if r.pending != nil {
		p.addPending(r, duration)
	}

	p.closeSegment(r)
}

// closeSegment finishes r's open segment with its last part, stores it and
// lists it. A segment the store refuses stays listed, as a gap, because its
// parts were already listed.
func (p *Presentation) closeSegment(r *rendition) {
	p.flushPart(r)
	r.open = false
	r.last = nil

	duration := r.segTicks
	if len(r.parts) == 0 || duration == 0 {
		return
	}

	seq := r.nextSeq
	data := r.segData
	r.segData = nil

	// The segment grew part by part, so up to half its capacity is unused;
	// the store keeps it for the whole window, so it keeps an exact copy.
	if cap(data)-len(data) > len(data)/segmentSlack {
		data = slices.Clone(data)
	}

	err := p.Store.Put(p.segmentKey(r, seq), data)
	if err != nil {
		p.Log.Warn("segment lost", "rendition", r.name, "seq", seq, "error", err)
	}

	seg := &segment{
		session:       p.session,
		seq:           seq,
		start:         r.segStart,
		duration:      duration,
		size:          len(data),
		discontinuity: r.disc && len(r.segments) > 0,
		wall:          p.wallZero.Add(tickDuration(r.segStart, r.timescale)),
		parts:         r.parts,
		lost:          err != nil,
	}

	if r.video && tickDuration(duration, r.timescale) > p.SegmentDuration+p.SegmentDuration/10 {
		p.warn("segment longer than the segment duration: keyframes came late",
			"rendition", r.name, "seq", seq, "duration", tickDuration(duration, r.timescale))
	}

	if p.Recorder != nil {
		p.Recorder.RecordSegment(r.name, seg.info(), data)
	}

	r.disc = false
	r.nextSeq++
	r.segments = append(r.segments, seg)
	r.parts = nil
	p.changed = true

	p.Log.Debug("segment", "rendition", r.name, "seq", seq, "duration",
		tickDuration(duration, r.timescale), "bytes", len(data), "parts", len(seg.parts))

	for len(r.segments) > p.Window+extraKept {
		old := r.segments[0]
		key := p.segmentKey(r, old.seq)
		r.segments = r.segments[1:]

		if old.discontinuity {
			r.discBefore++
		}

		err := p.Store.Delete(key)
		if err != nil {
			p.Log.Warn("old segment not deleted", "rendition", r.name, "seq", old.seq,
				"error", err)
		}
	}
}

// sweep finishes the open segment of every rendition that has gone
// inactiveAfter segment durations without a unit while others went on, so
// that its playlist lists what it has and the multivariant playlist leaves it
// out until it resumes.
func (p *Presentation) sweep() {
	limit := inactiveAfter * p.SegmentDuration

	for _, r := range p.renditions {
		if r.inactive || p.latest-r.lastDTS <= limit {
			continue
		}

		p.finish(r, r.lastDelta)
		r.inactive = true
		p.changed = true
		r.disc = len(r.segments) > 0
		r.waitKey = r.video
		p.Log.Info("rendition inactive", "rendition", r.name, "since", r.lastDTS)
	}
}

// End finishes every open segment and marks the playlists ended. Writes after
// End are dropped.
func (p *Presentation) End() {
	p.mu.Lock()
	defer p.mu.Unlock()

	if !p.started || p.ended {
		return
	}

	for _, r := range p.renditions {
		p.finish(r, r.lastDelta)
	}

	p.ended = true
	p.changed = true
	p.announce()
	p.Log.Info("presentation ended")
}

// Ended reports whether End has been called.
func (p *Presentation) Ended() bool {
	p.mu.Lock()
	defer p.mu.Unlock()

	return p.ended
}

// warn logs a per-unit problem at most once a second for each message.
func (p *Presentation) warn(msg string, args ...any) {
	now := time.Now()
	if now.Sub(p.lastWarn[msg]) < time.Second {
		return
	}

	if p.lastWarn == nil {
		p.lastWarn = map[string]time.Time{}
	}

	p.lastWarn[msg] = now
	p.Log.Warn(msg, args...)
}

// ticks converts a duration to a timescale, rounding to the nearest tick.
func ticks(d time.Duration, timescale uint32) uint64 {
	ts := time.Duration(timescale)

	return uint64((d/time.Second)*ts + ((d%time.Second)*ts+time.Second/2)/time.Second)
}

// tickDuration converts ticks of a timescale to a duration.
func tickDuration(t uint64, timescale uint32) time.Duration {
	ts := uint64(timescale)

	return time.Duration(t/ts)*time.Second + time.Duration(t%ts)*time.Second/time.Duration(ts)
}

// floorDiv divides rounding towards minus infinity.
func floorDiv(a, b time.Duration) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}

	return int64(q)
}
