package transcode

import (
	"fmt"
	"time"

	"github.com/asticode/go-astiav"
	"github.com/onair/onair/ingest/stream"
)

// run reads the source until it ends or the pipeline is closed.
func (p *Pipeline) run() {
	defer close(p.done)
	defer p.finish()

	units := p.Reader.Units()
	for {
		select {
		case <-p.ctx.Done():
			return
		case u, ok := <-units:
			if !ok {
				p.err = errOf(p.Reader.Err())
				p.flush()

				return
			}

			p.handle(u)
		}
	}
}

// handle processes one source unit; a failure costs that unit only.
func (p *Pipeline) handle(u *stream.Unit) {
	defer func() {
		if r := recover(); r != nil {
			p.decWarn.Warn(fmt.Errorf("panic: %v", r), "track", u.Track.ID)
		}
	}()

	// The lag is counted from the unit's arrival at the hub, not from this
	// read: units waiting in the reader's queue, behind a busy dispatcher,
	// are exactly the backlog the controller must see.
	arrival := u.Received
	if arrival.IsZero() {
		arrival = p.now()
	}

	if !p.started {
		if p.videoSrc != nil && (u.Track != p.videoSrc || !u.Key) {
			return // nothing is sent before the first keyframe
		}

		p.origin, p.started = u.PTS, true
		p.log.Debug("first unit", "pts", u.PTS)
	}

	var err error
	switch u.Track {
	case p.videoSrc:
		pts, dts := durationToTicks(u.PTS-p.origin), durationToTicks(u.DTS-p.origin)
		err = p.video.Decode(u, pts, dts, func(f *astiav.Frame) { p.dispatch(f, arrival) })
	case p.audioSrc:
		err = p.transcodeAudio(u)
	}

	if err != nil {
		p.decWarn.Warn(err, "track", u.Track.ID)
	}
}

func (p *Pipeline) transcodeAudio(u *stream.Unit) error {
	if u != nil && u.PTS < p.origin {
		return nil
	}

	var pts int64
	if u != nil {
		pts = int64((u.PTS - p.origin) * time.Duration(p.audioSrc.SampleRate) / time.Second)
	}

	units, err := p.audio.Transcode(u, pts, p.audioOut)
	for _, o := range units {
		p.emit(o)
	}

	return err
}

// dispatch hands a decoded picture to every rung being encoded, forcing a
// keyframe on the first picture at or past each segment boundary; level
// changes take effect there.
func (p *Pipeline) dispatch(f *astiav.Frame, arrival time.Time) {
	pts := f.Pts()
	if pts == astiav.NoPtsValue || pts < 0 || (p.hasPTS && pts <= p.lastPTS) {
		p.decWarn.Warn(fmt.Errorf("picture timestamp %d out of order", pts))

		return
	}

	key := !p.hasPTS || pts >= p.nextKey
	p.lastPTS, p.hasPTS = pts, true

	if key {
		p.nextKey = (pts/p.segTicks + 1) * p.segTicks
		p.applyLevel()
		p.applyFallback()
	}

	p.observe(pts)

	for i, w := range p.workers {
		if !p.feed(w, i, key) {
			continue
		}

		job := rungJob{frame: f.Clone(), key: key, preset: p.preset, encoder: p.encoder,
			factory: p.factory, arrival: arrival}
		select {
		case w.queue <- job:
		case <-p.ctx.Done():
			job.frame.Free()

			return
		}
	}
}

// feed says whether rung i gets the current picture, starting and stopping
// rungs on keyframes as the level asks.
func (p *Pipeline) feed(w *rungWorker, i int, key bool) bool {
	want := i >= p.dropped
	switch {
	case w.sending && !want:
		w.sending = false
		select {
		case w.queue <- rungJob{}:
		case <-p.ctx.Done():
		}

		return false
	case !w.sending && want && key:
		w.sending = true
	}

	return w.sending
}

// observe feeds the controller once per observeEvery of media time.
func (p *Pipeline) observe(pts int64) {
	if p.KeepLadder || pts-p.lastObs < durationToTicks(observeEvery) {
		return
	}

	p.lastObs = pts
	lag := p.lag()
	p.lastLag = lag

	level, changed := p.Controller.Observe(lag)
	if changed {
		p.log.Debug("adaptation level wanted", "level", level, "lag", lag)
	}
}

// lag returns the worst lag of the rungs being encoded.
func (p *Pipeline) lag() time.Duration {
	if p.lagProbe != nil {
		return p.lagProbe()
	}

	var worst time.Duration
	for _, w := range p.workers {
		if w.sending {
			worst = max(worst, time.Duration(w.lag.Load()))
		}
	}

	return worst
}

// applyLevel takes the controller's level into use at a keyframe.
func (p *Pipeline) applyLevel() {
	level := p.Controller.Level()

	p.levelMu.Lock()
	old := p.level
	p.level = level
	p.levelMu.Unlock()

	if level == old {
		return
	}

	preset, dropped := p.Controller.Plan(level)
	attrs := []any{"level", level, "preset", preset, "dropped", dropped, "lag", p.lastLag}

	switch {
	case dropped > p.dropped:
		attrs = append(attrs, "rung", p.workers[p.dropped].rung.Name)
		p.log.Warn("dropping rendition to keep up", attrs...)
	case dropped < p.dropped:
		attrs = append(attrs, "rung", p.workers[dropped].rung.Name)
		p.log.Info("restoring rendition", attrs...)
	case level > old:
		p.log.Warn("faster preset to keep up", attrs...)
	default:
		p.log.Info("slower preset, room to spare", attrs...)
	}

	p.preset, p.dropped = preset, dropped
}

// flush drains the decoders at the end of the source.
func (p *Pipeline) flush() {
	if p.video != nil && p.started {
		now := p.now()
		if err := p.video.Decode(nil, 0, 0, func(f *astiav.Frame) { p.dispatch(f, now) }); err != nil {
			p.decWarn.Warn(err, "track", p.videoSrc.ID)
		}
	}

	if p.audio != nil && p.started {
		if err := p.transcodeAudio(nil); err != nil {
			p.decWarn.Warn(err, "track", p.audioSrc.ID)
		}
	}
}

// finish stops the rungs, waits for them, frees everything and ends the sink.
func (p *Pipeline) finish() {
	for _, w := range p.workers {
		close(w.queue)
	}

	p.wg.Wait()

	if p.video != nil {
		p.video.Close()
	}

	if p.audio != nil {
		p.audio.Close()
	}

	p.Sink.End()
	p.log.Info("transcoding ended", "reason", p.err)
}
