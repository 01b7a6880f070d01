package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/onair/onair/ingest/stream"
	"github.com/onair/onair/packager"
	"github.com/onair/onair/store"
)

// defaultReconnectWindow is how long a broadcast waits for its publisher to
// come back when the input's recording.timeoutSeconds is 0.
const defaultReconnectWindow = 10 * time.Second

// resumingSink hands a pipeline's output to a presentation that may outlive
// it: a pipeline of a returning publisher resumes the presentation, and
// the end of a pipeline pauses it, until the reconnect window decides.
type resumingSink struct {
	presentation *packager.Presentation
	resume       bool
}

// Start implements transcode.Sink.
func (s *resumingSink) Start(tracks []*stream.Track) error {
	if s.resume {
		return s.presentation.Resume(tracks)
	}

	return s.presentation.Start(tracks)
}

// Write implements transcode.Sink.
func (s *resumingSink) Write(u *stream.Unit) {
	s.presentation.Write(u)
}

// End implements transcode.Sink.
func (s *resumingSink) End() {
	s.presentation.Pause()
}

// reconnectWindow returns the input's reconnect window; 0 when it has none
// or is gone.
func (in *inputs) reconnectWindow(uid string) time.Duration {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	li, err := in.store.GetLiveInput(ctx, uid)
	if err != nil {
		return 0
	}

	if li.Recording.TimeoutSeconds > 0 {
		return time.Duration(li.Recording.TimeoutSeconds) * time.Second
	}

	switch {
	case in.window < 0:
		return 0
	case in.window == 0:
		return defaultReconnectWindow
	}

	return in.window
}

// await ends s's presentation now, or when the input's reconnect window
// closes without its publisher coming back.
func (in *inputs) await(uid string, s *session) {
	window := in.reconnectWindow(uid)

	in.mu.Lock()
	reason := s.reason
	current := in.sessions[uid] == s && !in.closed && window > 0
	if current {
		s.window = time.AfterFunc(window, func() {
			in.finish(s)
			in.setStatus(uid, store.StateClientDisconnect, reason)
		})
	}
	in.mu.Unlock()

	if !current {
		in.finish(s)

		return
	}

	in.setStatus(uid, store.StateReconnecting, reason)
	in.log.Info("waiting for the publisher to come back", "component", "inputs", "input", uid,
		"window", window)
}

// settlePrevious waits, before a new broadcast of the input starts, until
// the previous one is paused for its publisher or ended. A pipeline still
// working through the backlog of a publisher that left is cut short (the
// pictures it had not encoded yet are dropped), so that the returning
// publisher continues the same presentation and video rather than starting
// a second one beside it.
func (in *inputs) settlePrevious(uid string, log *slog.Logger) {
	in.mu.Lock()
	s := in.sessions[uid]
	in.mu.Unlock()

	if s == nil || s.settled == nil {
		return
	}

	select {
	case <-s.settled:
		return
	default:
	}

	log.Info("publisher back before the last broadcast was transcoded to its end; "+
		"the rest of it is dropped", "component", "inputs")
	s.pipeline.Close()
	<-s.settled
}

// takeOver returns the session of the input whose publisher left within its
// reconnect window, stopping the window, or nil.
func (in *inputs) takeOver(uid string) *session {
	in.mu.Lock()
	defer in.mu.Unlock()

	s := in.sessions[uid]
	if s == nil || s.window == nil || !s.window.Stop() {
		return nil
	}

	s.window = nil

	return s
}

// finish ends s's presentation and recording, once.
func (in *inputs) finish(s *session) {
	s.ended.Do(func() {
		s.presentation.End()

		if s.rec != nil {
			in.recordings.end(s.rec)
		}
	})
}

// finishAll ends every presentation still waiting for its publisher.
func (in *inputs) finishAll() {
	in.mu.Lock()
	list := make([]*session, 0, len(in.sessions))
	for _, s := range in.sessions {
		if s.window != nil {
			s.window.Stop()
		}

		list = append(list, s)
	}
	in.mu.Unlock()

	for _, s := range list {
		in.finish(s)
	}
}
