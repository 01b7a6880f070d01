package rtmp

import "time"

// Limits of the timestamp rebasing.
const (
	// maxBackwardJump is how far a timestamp may fall behind the newest one
	// of any track before it counts as a discontinuity. Smaller steps back
	// (interleaving jitter between audio and video) are clamped per track.
	maxBackwardJump = 500 * time.Millisecond

	// maxForwardJump is how far a timestamp may leap ahead of the newest one
	// before it counts as a discontinuity.
	maxForwardJump = 10 * time.Second

	// rebaseGap is the step placed between the last timestamp before a
	// discontinuity and the first one after it.
	rebaseGap = 20 * time.Millisecond
)

// trackKind indexes the per-track state of a timeline.
type trackKind int

// The two tracks an RTMP stream can carry.
const (
	kindVideo trackKind = iota
	kindAudio
)

// timeline turns RTMP message timestamps (milliseconds, 32 bits) into DTS
// values that keep rising across discontinuities. One offset is shared by
// both tracks so that audio and video stay in sync across a rebase.
type timeline struct {
	started bool
	offset  time.Duration
	newest  time.Duration    // highest DTS handed out, any track
	last    [2]time.Duration // last DTS handed out per track
	seen    [2]bool
}

// dts maps a message timestamp of track k. rebased reports a discontinuity.
func (tl *timeline) dts(ms uint32, k trackKind) (dts time.Duration, rebased bool) {
	in := time.Duration(ms) * time.Millisecond
	if !tl.started {
		tl.started = true
		tl.newest = in
	}

	out := in + tl.offset
	if out < tl.newest-maxBackwardJump || out > tl.newest+maxForwardJump {
		tl.offset = tl.newest + rebaseGap - in
		out = tl.newest + rebaseGap
		rebased = true
	}

	if tl.seen[k] && out < tl.last[k] {
		out = tl.last[k]
	}

	tl.seen[k] = true
	tl.last[k] = out
	tl.newest = max(tl.newest, out)

	return out, rebased
}
