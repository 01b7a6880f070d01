package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/onair/onair/ingest/stream"
	"github.com/onair/onair/packager"
	"github.com/onair/onair/restream"
	"github.com/onair/onair/store"
	"github.com/onair/onair/transcode"
)

// transcodeQueue is how many source units the transcoder may fall behind
// before the hub drops it; about 20 s of 30 fps video with audio.
const transcodeQueue = 2048

// inputs is the live side of every live input: its hub, the transcoder and
// the presentation of its current or last broadcast. It answers the ingest
// servers (stream.Directory), the API (changes and live info) and playback
// (presentations by uid).
type inputs struct {
	store *store.Store
	log   *slog.Logger // the process's logger; components add their own tag

	// queue is the transcoder's queue of source units; 0 means transcodeQueue.
	queue int

	// encoder is the video encoder of every ladder, from probeHWAccel.
	encoder string

	// restream pushes broadcasts to the inputs' outputs; nil pushes nothing.
	restream *restream.Manager
	// window is the reconnect window of inputs whose timeoutSeconds is 0;
	// 0 means defaultReconnectWindow, negative none.
	window time.Duration

	// recordings keeps broadcasts as videos; nil records nothing.
	recordings *recordings

	// events, when set, hears about broadcasts (webhooks).
	events liveEvents

	mu       sync.Mutex
	hubs     map[string]*stream.Hub
	sessions map[string]*session
	keys     map[string]string // uid → the stream key that last opened its hub
	latest   map[string]string // uid → its stream key, as the API last reported it
	closed   bool

	wg sync.WaitGroup
}

// session is one broadcast being transcoded and packaged.
type session struct {
	broadcast    *stream.Broadcast
	pipeline     *transcode.Pipeline
	presentation *packager.Presentation
	rec          *liveRecording // nil when not recorded

	// window, set once the publisher has left and until it comes back or
	// the reconnect window closes, ends the presentation when it fires.
	window *time.Timer
	reason string // why the publisher left, for the status when the window closes

	// ended ends the presentation and the recording once, shared by the
	// sessions of the publishers that continued it.
	ended *sync.Once

	// settled is closed once the pipeline is done and the presentation is
	// waiting for its publisher or has ended.
	settled chan struct{}
}

// Start resets states left by a process that did not stop cleanly.
func (in *inputs) Start() error {
	in.hubs = map[string]*stream.Hub{}
	in.sessions = map[string]*session{}
	in.keys = map[string]string{}

	ctx := context.Background()
	list, err := in.store.ListLiveInputs(ctx)
	if err != nil {
		return fmt.Errorf("list live inputs: %w", err)
	}

	for _, li := range list {
		if li.Status != nil && li.Status.State == store.StateConnected {
			err := in.store.SetLiveInputStatus(ctx, li.UID, store.StateClientDisconnect,
				"onair restarted")
			if err != nil {
				return err
			}

			in.disconnected(li.UID)
		}
	}

	return nil
}

// Close cuts off every publisher and waits for their broadcasts to end.
func (in *inputs) Close() {
	in.mu.Lock()
	in.closed = true
	hubs := make([]*stream.Hub, 0, len(in.hubs))
	for _, h := range in.hubs {
		hubs = append(hubs, h)
	}
	in.mu.Unlock()

	for _, h := range hubs {
		h.Kick(errShuttingDown)
	}

	in.wg.Wait()
	in.finishAll()
}

var errShuttingDown = errors.New("onair is shutting down")

// PublishHub implements stream.Directory for publishers.
func (in *inputs) PublishHub(protocol, key string) (*stream.Hub, stream.Secret, error) {
	li, err := in.publishInput(protocol, key)
	h, secret, err := in.admit(li, err)

	if err == nil {
		// The RTMP key stands for all of an input's keys: they rotate together.
		in.mu.Lock()
		in.keys[li.UID] = li.StreamKey
		in.mu.Unlock()

		secret = srtSecret(protocol, li.SRTPassphrase)
	}

	return h, secret, err
}

// PlaybackHub implements stream.Directory for players.
func (in *inputs) PlaybackHub(protocol, key string) (*stream.Hub, stream.Secret, error) {
	li, err := in.playbackInput(protocol, key)
	h, secret, err := in.admit(li, err)

	if err == nil {
		secret = srtSecret(protocol, li.SRTPlaybackPassphrase)
	}

	return h, secret, err
}

func (in *inputs) admit(li *store.LiveInput, err error) (*stream.Hub, stream.Secret, error) {
	if errors.Is(err, store.ErrNotFound) {
		return nil, "", &stream.AuthError{Reason: stream.AuthUnknownKey}
	}

	if err != nil {
		return nil, "", err
	}

	if !li.Enabled {
		return nil, "", &stream.AuthError{Reason: stream.AuthDisabled, InputUID: li.UID}
	}

	h, err := in.hub(li.UID)
	if err != nil {
		return nil, "", err
	}

	return h, "", nil
}

// hub returns the hub of a live input, creating it on first use.
func (in *inputs) hub(uid string) (*stream.Hub, error) {
	in.mu.Lock()
	defer in.mu.Unlock()

	if in.closed {
		return nil, errShuttingDown
	}

	h, ok := in.hubs[uid]
	if !ok {
		h = &stream.Hub{InputUID: uid, Log: in.log.With("component", "hub", "input", uid)}
		h.OnStart = func(b *stream.Broadcast, p *stream.Publisher) { in.started(uid, b, p) }
		h.OnEnd = func(b *stream.Broadcast, p *stream.Publisher, reason error) {
			in.ended(uid, b, reason)
		}
		in.hubs[uid] = h
	}

	return h, nil
}

// started transcodes and packages a new broadcast, or refuses it with a reason
// the API shows when onair cannot transcode its codecs. A publisher back
// within the input's reconnect window continues the presentation (and the
// video) of its last broadcast.
func (in *inputs) started(uid string, b *stream.Broadcast, p *stream.Publisher) {
	in.mu.Lock()
	stale := in.staleKeyLocked(uid)
	in.mu.Unlock()

	if stale {
		in.setStatus(uid, store.StateClientDisconnect, errKeysRotated.Error())
		p.End(errKeysRotated)

		return
	}

	log := in.log.With("input", uid)
	in.settlePrevious(uid, log)
	prev := in.takeOver(uid)
	sink := &resumingSink{presentation: &packager.Presentation{
		Log: log.With("component", "packager")}}

	var rec *liveRecording

	if prev != nil {
		sink = &resumingSink{presentation: prev.presentation, resume: true}
		rec = prev.rec
	}

	pres := sink.presentation
	pipe := &transcode.Pipeline{
		Reader:  b.NewReader("transcode", cmp.Or(in.queue, transcodeQueue)),
		Sink:    sink,
		Log:     log,
		Encoder: in.encoder,
	}
	log = log.With("component", "inputs")

	if prev == nil {
		rec = in.record(uid, pres)
	}

	if err := pipe.Start(); err != nil {
		switch {
		case prev != nil:
			in.finish(prev)
		case rec != nil:
			in.recordings.abandon(rec)
		}

		pipe.Reader.Close()
		log.Warn("broadcast refused", "reason", err)
		in.setStatus(uid, store.StateFailedToConnect, err.Error())
		in.refused(uid, err)
		p.End(err)

		return
	}

	s := &session{broadcast: b, pipeline: pipe, presentation: pres, rec: rec,
		ended: &sync.Once{}, settled: make(chan struct{})}
	if prev != nil {
		s.ended = prev.ended
	}

	in.mu.Lock()
	in.sessions[uid] = s
	in.mu.Unlock()

	state := store.StateConnected
	if prev != nil {
		state = store.StateReconnected
		log.Info("publisher back within the reconnect window; broadcast continues")
	}

	in.setStatus(uid, state, "")
	in.connected(uid)

	if in.restream != nil {
		in.restream.Live(uid, b)
	}

	in.wg.Add(1)
	go func() {
		defer in.wg.Done()
		<-pipe.Done()

		// A transcoder that stopped while its publisher is still live (it fell
		// so far behind that the hub dropped it) leaves viewers with an ended
		// playlist: cut the publisher off with the reason, so that its
		// encoder reconnects to a fresh broadcast.
		// Other reasons are the publisher's own, logged where it left.
		if err := pipe.Err(); errors.Is(err, stream.ErrSlowReader) {
			log.Warn("transcoding fell behind real time; publisher cut off", "reason", err)
			p.End(fmt.Errorf("transcoding fell behind real time: %w", err))
		}

		in.await(uid, s)
		close(s.settled)
	}()
}

// ended records the end of a broadcast. Its presentation stays readable (with
// an ended playlist) until the next broadcast of the input replaces it. With a
// reconnect window, the status is left to the window.
func (in *inputs) ended(uid string, b *stream.Broadcast, reason error) {
	in.mu.Lock()
	s := in.sessions[uid]
	if s != nil && s.broadcast == b {
		s.reason = reasonText(reason)
	}
	in.mu.Unlock()

	if s == nil || s.broadcast != b {
		// Refused at start: its status already says why.
		return
	}

	if in.restream != nil {
		in.restream.Ended(uid, b)
	}

	if in.reconnectWindow(uid) > 0 {
		return
	}

	in.setStatus(uid, store.StateClientDisconnect, reasonText(reason))
	in.disconnected(uid)
}

func reasonText(reason error) string {
	if reason == nil || errors.Is(reason, stream.ErrEnded) {
		return "publisher ended the stream"
	}

	return reason.Error()
}

func (in *inputs) setStatus(uid, state, reason string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	if err := in.store.SetLiveInputStatus(ctx, uid, state, reason); err != nil &&
		!errors.Is(err, store.ErrNotFound) {
		in.log.Warn("status not saved", "component", "inputs", "input", uid, "state", state, "error", err)
	}
}

// Presentation returns the presentation of a live input's current or last
// broadcast, or of a video, for playback.
func (in *inputs) Presentation(id string) (*packager.Presentation, bool) {
	in.mu.Lock()
	s, ok := in.sessions[id]
	in.mu.Unlock()

	switch {
	case ok:
		return s.presentation, true
	case in.recordings != nil:
		return in.recordings.Presentation(id)
	}

	return nil, false
}

// InputChanged cuts off the publisher of an input that was disabled or whose
// keys were rotated.
func (in *inputs) InputChanged(li *store.LiveInput) {
	in.mu.Lock()
	h := in.hubs[li.UID]
	rotated := in.keys[li.UID] != "" && in.keys[li.UID] != li.StreamKey
	in.noteKeysLocked(li.UID, li.StreamKey)
	in.mu.Unlock()

	switch {
	case h == nil:
	case !li.Enabled:
		h.Kick(errors.New("live input disabled"))
	case rotated:
		h.Kick(errKeysRotated)
	}
}

// InputDeleted cuts off the publisher of a deleted input and forgets it.
func (in *inputs) InputDeleted(uid string) {
	in.mu.Lock()
	h, s := in.hubs[uid], in.sessions[uid]
	waiting := s != nil && s.window != nil && s.window.Stop()
	delete(in.hubs, uid)
	delete(in.keys, uid)
	delete(in.latest, uid)
	delete(in.sessions, uid)
	in.mu.Unlock()

	if h != nil {
		h.Kick(errors.New("live input deleted"))
	}

	if in.restream != nil {
		in.restream.Remove(uid)
	}

	if waiting {
		in.finish(s)
	}
}

// LiveInfo reports the transcoder of the input's broadcast in progress.
func (in *inputs) LiveInfo(uid string) any {
	in.mu.Lock()
	s := in.sessions[uid]
	in.mu.Unlock()

	if s == nil || s.presentation.Ended() {
		return nil
	}

	return s.pipeline.Status()
}
