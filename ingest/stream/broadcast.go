package stream

import (
	"log/slog"
	"sync"
	"time"
)

// Limits of the keyframe cache a Broadcast keeps for readers that join late.
const (
	// maxCachedUnits bounds the units kept since the last keyframe; a source
	// with a GOP longer than this starts late readers at the next keyframe.
	maxCachedUnits = 4096

	// maxCachedBytes bounds the bytes kept since the last keyframe.
	maxCachedBytes = 64 << 20
)

// Broadcast is one uninterrupted publication on a live input: a fixed set of
// tracks and the units that follow. It fans every unit out to its readers
// without ever blocking the publisher: a reader whose queue is full is dropped
// with ErrSlowReader.
type Broadcast struct {
	tracks []*Track
	log    *slog.Logger

	mu      sync.Mutex
	readers map[*Reader]struct{}
	cache   []*Unit // since the last video keyframe, for late readers
	cached  int     // bytes in cache
	hasKey  bool    // cache starts with a keyframe
	video   bool    // the broadcast has a video track
	ended   bool
	reason  error
}

// NewBroadcast returns a broadcast of the given tracks. The logger may be nil.
func NewBroadcast(tracks []*Track, log *slog.Logger) *Broadcast {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}

	b := &Broadcast{tracks: tracks, log: log, readers: map[*Reader]struct{}{}}
	for _, t := range tracks {
		if t.IsVideo() {
			b.video = true
		}
	}

	return b
}

// Tracks returns the broadcast's tracks. The slice must not be modified.
func (b *Broadcast) Tracks() []*Track {
	return b.tracks
}

// Write hands a unit to every reader, stamping its Received time when the
// producer left it zero. The unit must not be modified afterwards.
func (b *Broadcast) Write(u *Unit) {
	if u.Received.IsZero() {
		u.Received = time.Now()
	}

	b.mu.Lock()
	defer b.mu.Unlock()

	if b.ended {
		return
	}

	b.remember(u)

	for r := range b.readers {
		select {
		case r.ch <- u:
		default:
			b.drop(r, ErrSlowReader)
			b.log.Warn("reader dropped", "reader", r.name, "reason", ErrSlowReader)
		}
	}
}

// remember keeps u in the cache that late readers start from.
func (b *Broadcast) remember(u *Unit) {
	if !b.video {
		// Audio-only: every frame is a start point, nothing to replay.
		return
	}

	if u.Track.IsVideo() && u.Key {
		b.cache = b.cache[:0]
		b.cached = 0
		b.hasKey = true
	}

	if !b.hasKey {
		return
	}

	if len(b.cache) >= maxCachedUnits || b.cached+u.Size() > maxCachedBytes {
		b.cache = b.cache[:0]
		b.cached = 0
		b.hasKey = false

		return
	}

	b.cache = append(b.cache, u)
	b.cached += u.Size()
}

// NewReader subscribes to the broadcast with a queue of size units. The reader
// first receives the units since the last keyframe, so that a decoder or a
// player can start at once. It must be closed when no longer read.
func (b *Broadcast) NewReader(name string, size int) *Reader {
	b.mu.Lock()
	defer b.mu.Unlock()

	if size < 1 {
		size = 1
	}

	r := &Reader{b: b, name: name, ch: make(chan *Unit, size+len(b.cache))}
	if b.ended {
		r.err = b.reason
		close(r.ch)

		return r
	}

	for _, u := range b.cache {
		r.ch <- u
	}

	b.readers[r] = struct{}{}

	return r
}

// Close ends the broadcast: every reader's queue is closed after the units
// already in it, and Reader.Err reports reason (ErrEnded when nil).
func (b *Broadcast) Close(reason error) {
	b.mu.Lock()
	defer b.mu.Unlock()

	if b.ended {
		return
	}

	if reason == nil {
		reason = ErrEnded
	}

	b.ended = true
	b.reason = reason
	b.cache = nil

	for r := range b.readers {
		b.drop(r, reason)
	}
}

// drop removes r, closing its queue with reason. b.mu must be held.
func (b *Broadcast) drop(r *Reader, reason error) {
	delete(b.readers, r)
	r.mu.Lock()
	r.err = reason
	r.mu.Unlock()
	close(r.ch)
}

// Reader receives a broadcast's units in order.
type Reader struct {
	b    *Broadcast
	name string
	ch   chan *Unit

	mu  sync.Mutex
	err error
}

// Tracks returns the tracks of the broadcast being read.
func (r *Reader) Tracks() []*Track {
	return r.b.tracks
}

// Units returns the queue of units. It is closed when the broadcast ends, the
// reader is dropped or closed; Err then says why.
func (r *Reader) Units() <-chan *Unit {
	return r.ch
}

// Err returns why the queue was closed, or nil while it is open.
func (r *Reader) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()

	return r.err
}

// Close unsubscribes the reader. It is safe to call more than once.
func (r *Reader) Close() {
	r.b.mu.Lock()
	defer r.b.mu.Unlock()

	if _, ok := r.b.readers[r]; ok {
		r.b.drop(r, errReaderClosed)
	}
}
