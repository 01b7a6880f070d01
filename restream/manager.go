package restream

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/onair/onair/ingest/stream"
	"github.com/onair/onair/restream/destination"
)

// Default backoff between attempts to reach a destination.
const (
	defaultMinBackoff = time.Second
	defaultMaxBackoff = 30 * time.Second
)

// Output is one destination of a live input, as configured.
type Output struct {
	UID           string
	URL           string
	StreamKey     string // never logged
	TLSSkipVerify bool
	Enabled       bool
}

// Loader returns the outputs of a live input.
type Loader func(ctx context.Context, inputUID string) ([]Output, error)

// Manager runs the outputs of every live input. Fill its fields, call Start,
// tell it about broadcasts (Live, Ended) and configuration changes (Reload,
// Remove), and Close it when done.
type Manager struct {
	// Load reads a live input's outputs. Required.
	Load Loader

	// Log receives one line per output state change; nil discards them.
	Log *slog.Logger

	// QueueSize is how many units an output holds for a slow destination;
	// zero means 512.
	QueueSize int

	// MinBackoff and MaxBackoff bound the wait between attempts to reach a
	// destination; zero means 1 s and 30 s.
	MinBackoff, MaxBackoff time.Duration

	log *slog.Logger

	reloadMu sync.Mutex // one Reload at a time, so that the last read wins

	mu     sync.Mutex
	inputs map[string]*liveInput
	closed bool
	wg     sync.WaitGroup
}

// liveInput is the restream side of one live input.
type liveInput struct {
	loaded    bool
	broadcast *stream.Broadcast // the broadcast in progress, or nil
	outputs   map[string]*output
	config    map[string]Output // the configuration each running output has
}

// Start prepares the manager.
func (m *Manager) Start() error {
	if m.Load == nil {
		return errors.New("restream manager needs a loader")
	}

	log := m.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}

	m.log = log.With("component", "restream")
	m.inputs = map[string]*liveInput{}

	return nil
}

// Close stops every output and waits for their connections to close.
func (m *Manager) Close() {
	m.mu.Lock()
	m.closed = true

	for _, li := range m.inputs {
		for _, o := range li.outputs {
			o.stop(errStopped)
		}
	}
	m.mu.Unlock()

	m.wg.Wait()
}

// Live starts pushing a new broadcast of an input to its enabled outputs.
// It reads the outputs on the input's first broadcast.
func (m *Manager) Live(inputUID string, b *stream.Broadcast) {
	m.mu.Lock()
	li := m.input(inputUID)
	li.broadcast = b
	loaded := li.loaded

	for _, o := range li.outputs {
		o.offer(b)
	}
	m.mu.Unlock()

	if !loaded {
		if err := m.Reload(inputUID); err != nil {
			m.log.Warn("outputs not read", "input", inputUID, "error", err)
		}
	}
}

// Ended forgets a broadcast that ended; its outputs notice by themselves.
func (m *Manager) Ended(inputUID string, b *stream.Broadcast) {
	m.mu.Lock()
	defer m.mu.Unlock()

	if li := m.inputs[inputUID]; li != nil && li.broadcast == b {
		li.broadcast = nil
	}
}

// Reload reads an input's outputs again: new and enabled ones start (at the
// next keyframe when the input is live), disabled and deleted ones stop.
func (m *Manager) Reload(inputUID string) error {
	m.reloadMu.Lock()
	defer m.reloadMu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	outs, err := m.Load(ctx, inputUID)
	if err != nil {
		return fmt.Errorf("outputs of live input %s: %w", inputUID, err)
	}

	m.mu.Lock()
	defer m.mu.Unlock()

	if m.closed {
		return nil
	}

	li := m.input(inputUID)
	li.loaded = true
	want := map[string]Output{}

	for _, o := range outs {
		if o.Enabled {
			want[o.UID] = o
		}
	}

	for uid, o := range li.outputs {
		if cfg, ok := want[uid]; !ok || cfg != li.config[uid] {
			o.stop(errOutputRemoved)
			delete(li.outputs, uid)
			delete(li.config, uid)
		}
	}

	for uid, cfg := range want {
		if li.outputs[uid] == nil {
			m.startOutput(inputUID, li, cfg)
		}
	}

	return nil
}

// Remove stops every output of a deleted input and forgets it.
func (m *Manager) Remove(inputUID string) {
	m.mu.Lock()
	defer m.mu.Unlock()

	li := m.inputs[inputUID]
	if li == nil {
		return
	}

	for _, o := range li.outputs {
		o.stop(errInputDeleted)
	}

	delete(m.inputs, inputUID)
}

// Status returns the live state of a running output; ok is false when the
// output is not running (disabled, or not read yet).
func (m *Manager) Status(inputUID, outputUID string) (s Status, ok bool) {
	m.mu.Lock()
	var o *output
	if li := m.inputs[inputUID]; li != nil {
		o = li.outputs[outputUID]
	}
	m.mu.Unlock()

	if o == nil {
		return Status{}, false
	}

	return o.Status(), true
}

// input returns an input's state, creating it. m.mu must be held.
func (m *Manager) input(uid string) *liveInput {
	li := m.inputs[uid]
	if li == nil {
		li = &liveInput{outputs: map[string]*output{}, config: map[string]Output{}}
		m.inputs[uid] = li
	}

	return li
}

// startOutput starts one output. m.mu must be held.
func (m *Manager) startOutput(inputUID string, li *liveInput, cfg Output) {
	log := m.log.With("input", inputUID, "output", cfg.UID)

	dest, err := destination.Parse(cfg.URL, cfg.StreamKey)
	if err != nil {
		// The API validated it; a row written by hand is refused here.
		log.Warn("output not started", "reason", err)

		return
	}

	dest.TLSSkipVerify = cfg.TLSSkipVerify
	ctx, cancel := context.WithCancelCause(context.Background())
	o := &output{uid: cfg.UID, dest: dest, m: m, log: log.With("destination", dest.String()),
		ctx: ctx, cancel: cancel, done: make(chan struct{}), wake: make(chan struct{}, 1),
		status: Status{State: StateDisconnected, Reason: errBroadcastEnded.Error(),
			Since: time.Now().UTC()}}

	li.outputs[cfg.UID] = o
	li.config[cfg.UID] = cfg

	if li.broadcast != nil {
		o.offer(li.broadcast)
	}

	m.wg.Add(1)

	go func() {
		defer m.wg.Done()
		o.run()
	}()
}

func (m *Manager) queueSize() int {
	return cmp.Or(m.QueueSize, defaultQueue)
}

func (m *Manager) minBackoff() time.Duration {
	return cmp.Or(m.MinBackoff, defaultMinBackoff)
}

func (m *Manager) maxBackoff() time.Duration {
	return max(cmp.Or(m.MaxBackoff, defaultMaxBackoff), m.minBackoff())
}
