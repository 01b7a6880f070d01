package transcode

import (
	"fmt"

	"github.com/onair/onair/ingest/stream"
)

// hardwareFailed is called by a rung worker whose hardware encoder failed:
// the input moves to libx264 at the next segment boundary.
func (p *Pipeline) hardwareFailed(w *rungWorker, err error) {
	p.levelMu.Lock()
	first := p.fellBack == ""
	if first {
		p.fellBack = fmt.Sprintf("%s failed on %s: %v", w.encName, w.rung.Name, err)
	}
	p.levelMu.Unlock()

	p.hwFailed.Store(true)

	if first {
		p.log.Warn("hardware encoder failed, moving the input to libx264 at the next "+
			"segment boundary", "encoder", w.encName, "rung", w.rung.Name, "error", err)
	}
}

// applyFallback, at a keyframe, moves every rung to libx264 once a hardware
// encoder failed; the rungs reopen their encoder on this keyframe, so they
// stay aligned.
func (p *Pipeline) applyFallback() {
	if !p.hwFailed.Load() || p.encoder == DefaultEncoder {
		return
	}

	p.levelMu.Lock()
	from := p.encoder
	p.encoder = DefaultEncoder
	p.levelMu.Unlock()

	p.factory = openX264
	p.log.Info("input moved to libx264", "from", from)
}

// switchTrack tells the sink, when it can take it, the new description of a
// rung whose encoder changed.
func (p *Pipeline) switchTrack(t *stream.Track) {
	p.sinkMu.Lock()
	defer p.sinkMu.Unlock()

	ts, ok := p.Sink.(TrackSwitcher)
	if !ok {
		p.log.Info("rendition changed encoder, parameter sets now in-band",
			"rung", t.Name)

		return
	}

	if err := ts.SwitchTrack(t); err != nil {
		p.log.Warn("sink refused the changed rendition, parameter sets now in-band",
			"rung", t.Name, "error", err)
	}
}
