package stream

import (
	"context"
	"log/slog"
	"sync"
)

// Hub is one live input's meeting point: it admits at most one publisher at a
// time and hands each of that publisher's broadcasts to the input's watchers.
// The zero value is not usable; fill the exported fields and call nothing
// before they are set.
type Hub struct {
	// InputUID is the live input this hub serves.
	InputUID string

	// Log receives the hub's lines; nil discards them.
	Log *slog.Logger

	// OnStart, when set, is called with every new broadcast before its first
	// unit is written. It runs on the publisher's goroutine and must not block.
	OnStart func(b *Broadcast, p *Publisher)

	// OnEnd, when set, is called once a broadcast has ended, with its reason
	// (ErrEnded for a publisher that left normally).
	OnEnd func(b *Broadcast, p *Publisher, reason error)

	mu      sync.Mutex
	current *Publisher
}

// PublisherInfo says who is publishing, for logs and the API.
type PublisherInfo struct {
	Protocol string // "rtmp", "rtmps", "srt"
	Remote   string // remote address
}

// Claim reserves the input for a new publisher. It fails with ErrBusy while
// another publisher holds it, so that the first keeps streaming.
func (h *Hub) Claim(info PublisherInfo) (*Publisher, error) {
	h.mu.Lock()
	defer h.mu.Unlock()

	if h.current != nil {
		return nil, ErrBusy
	}

	ctx, cancel := context.WithCancelCause(context.Background())
	p := &Publisher{hub: h, Info: info, ctx: ctx, cancel: cancel}
	h.current = p

	return p, nil
}

// Kick cuts off the current publisher, if any, with reason (the input was
// disabled, deleted or its keys rotated). The ingest server sees it through
// Publisher.Context and closes the connection.
func (h *Hub) Kick(reason error) {
	h.mu.Lock()
	p := h.current
	h.mu.Unlock()

	if p != nil {
		p.cancel(reason)
	}
}

// Current returns the broadcast in progress, or nil when the input is not live.
func (h *Hub) Current() *Broadcast {
	h.mu.Lock()
	defer h.mu.Unlock()

	if h.current == nil {
		return nil
	}

	return h.current.broadcast()
}

// Subscribe reads the broadcast in progress; see Broadcast.NewReader. It fails
// with ErrNotLive when nobody is publishing.
func (h *Hub) Subscribe(name string, size int) (*Reader, error) {
	b := h.Current()
	if b == nil {
		return nil, ErrNotLive
	}

	return b.NewReader(name, size), nil
}

func (h *Hub) logger() *slog.Logger {
	if h.Log == nil {
		return slog.New(slog.DiscardHandler)
	}

	return h.Log
}

// Publisher is the claim of one connected encoder on a Hub.
type Publisher struct {
	hub *Hub

	// Info says who is publishing.
	Info PublisherInfo

	ctx    context.Context
	cancel context.CancelCauseFunc

	mu    sync.Mutex
	b     *Broadcast
	ended bool
}

// Context is cancelled when the publisher must stop: context.Cause says why.
func (p *Publisher) Context() context.Context {
	return p.ctx
}

// Start begins a broadcast of tracks. Calling it again (the encoder changed its
// codec parameters) ends the previous broadcast and begins a new one.
func (p *Publisher) Start(tracks []*Track) *Broadcast {
	p.mu.Lock()
	prev := p.b
	b := NewBroadcast(tracks, p.hub.logger())
	p.b = b
	p.mu.Unlock()

	if prev != nil {
		p.finish(prev, ErrEnded)
	}

	if p.hub.OnStart != nil {
		p.hub.OnStart(b, p)
	}

	return b
}

// Write hands a unit to the broadcast in progress; it is dropped before Start.
func (p *Publisher) Write(u *Unit) {
	if b := p.broadcast(); b != nil {
		b.Write(u)
	}
}

// End ends the broadcast, if any, with reason (nil for a normal end) and
// releases the input for the next publisher. It is safe to call more than once.
func (p *Publisher) End(reason error) {
	p.mu.Lock()
	if p.ended {
		p.mu.Unlock()

		return
	}

	p.ended = true
	b := p.b
	p.mu.Unlock()

	if reason == nil {
		reason = ErrEnded
	}

	if b != nil {
		p.finish(b, reason)
	}

	p.cancel(reason)

	p.hub.mu.Lock()
	if p.hub.current == p {
		p.hub.current = nil
	}
	p.hub.mu.Unlock()
}

func (p *Publisher) finish(b *Broadcast, reason error) {
	b.Close(reason)

	if p.hub.OnEnd != nil {
		p.hub.OnEnd(b, p, reason)
	}
}

func (p *Publisher) broadcast() *Broadcast {
	p.mu.Lock()
	defer p.mu.Unlock()

	return p.b
}
