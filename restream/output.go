package restream

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/onair/onair/ingest/stream"
	"github.com/onair/onair/restream/destination"
)

// Limits of an output.
const (
	// readerQueue is the hub-side queue of an output. Its pump empties it as
	// fast as the hub fills it, so it only absorbs scheduling hiccups.
	readerQueue = 1024

	// defaultQueue is how many units an output may hold for a slow
	// destination before it drops to the next keyframe: about 8 s of 30 fps
	// video with its audio.
	defaultQueue = 512

	// stableAfter is how long a connection must last for the backoff to
	// start again from its minimum.
	stableAfter = 30 * time.Second

	// dropLogEvery throttles the line about a full queue.
	dropLogEvery = 10 * time.Second
)

// output pushes one live input to one destination while the output is
// enabled; it goes from broadcast to broadcast until it is stopped.
type output struct {
	uid  string
	dest *destination.Destination
	m    *Manager
	log  *slog.Logger

	ctx    context.Context
	cancel context.CancelCauseFunc
	done   chan struct{}

	wake chan struct{} // a new broadcast is pending

	drops    atomic.Int64
	lastDrop atomic.Int64 // unix nanoseconds of the last logged overflow

	mu      sync.Mutex
	pending *stream.Broadcast
	status  Status
}

// offer hands the output a broadcast to push.
func (o *output) offer(b *stream.Broadcast) {
	o.mu.Lock()
	o.pending = b
	o.mu.Unlock()

	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// stop ends the output; it returns at once and the output's goroutine
// closes its connection.
func (o *output) stop(reason error) {
	o.cancel(reason)
}

// run serves broadcasts until the output is stopped.
func (o *output) run() {
	defer close(o.done)

	for {
		select {
		case <-o.ctx.Done():
			o.setState(StateDisconnected, context.Cause(o.ctx).Error())

			return
		case <-o.wake:
		}

		o.mu.Lock()
		b := o.pending
		o.pending = nil
		o.mu.Unlock()

		if b != nil {
			o.serve(b)
		}
	}
}

// serve pushes one broadcast, reconnecting with backoff, until it ends or the
// output is stopped.
func (o *output) serve(b *stream.Broadcast) {
	r := b.NewReader("restream "+o.uid, readerQueue)
	q := newQueue(o.m.queueSize(), r.Tracks(), &o.drops)

	ctx, cancel := context.WithCancelCause(o.ctx)

	var wg sync.WaitGroup

	wg.Add(2)

	go func() {
		defer wg.Done()
		q.pump(r, o.overflowed)
	}()

	go func() {
		defer wg.Done()

		select {
		case <-q.done:
			cancel(errBroadcastEnded)
		case <-ctx.Done():
		}
	}()

	o.setState(StateReconnecting, "connecting")
	o.connectLoop(ctx, q, r.Tracks())

	reason := context.Cause(ctx)
	cancel(nil)
	r.Close()
	wg.Wait()

	o.setState(StateDisconnected, reason.Error())
}

// connectLoop connects and sends until ctx is done, waiting a capped,
// doubling backoff after each failure.
func (o *output) connectLoop(ctx context.Context, q *queue, tracks []*stream.Track) {
	backoff := o.m.minBackoff()

	var conn int64

	for ctx.Err() == nil {
		p, err := dial(ctx, o.dest, tracks)
		if err != nil {
			if ctx.Err() != nil {
				return
			}

			o.setState(StateError, err.Error())
			sleep(ctx, backoff)
			backoff = min(2*backoff, o.m.maxBackoff())

			continue
		}

		conn++
		drain(q.ch)
		q.conn.Store(conn)
		o.setState(StateConnected, "")

		began := time.Now()
		err = o.send(ctx, p, q, conn)

		q.conn.Store(0)
		p.close()

		if ctx.Err() != nil {
			return
		}

		o.setState(StateReconnecting, err.Error())

		if time.Since(began) >= stableAfter {
			backoff = o.m.minBackoff()

			continue
		}

		sleep(ctx, backoff)
		backoff = min(2*backoff, o.m.maxBackoff())
	}
}

// send writes the queue's units for connection conn until a write fails,
// the broadcast ends (after the units already queued) or ctx is done.
func (o *output) send(ctx context.Context, p pusher, q *queue, conn int64) error {
	for {
		select {
		case it := <-q.ch:
			if it.conn != conn {
				continue
			}

			if err := p.write(it.u); err != nil {
				return err
			}

		case <-q.done:
			return o.flush(p, q, conn)

		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
}

// flush writes what is left in the queue of an ended broadcast.
func (o *output) flush(p pusher, q *queue, conn int64) error {
	for {
		select {
		case it := <-q.ch:
			if it.conn != conn {
				continue
			}

			if err := p.write(it.u); err != nil {
				return err
			}

		default:
			return errBroadcastEnded
		}
	}
}

// overflowed logs a full queue, at most once per dropLogEvery.
func (o *output) overflowed() {
	now := time.Now().UnixNano()
	last := o.lastDrop.Load()

	if now-last < int64(dropLogEvery) || !o.lastDrop.CompareAndSwap(last, now) {
		return
	}

	o.log.Warn("destination slower than the input: dropping to the next keyframe",
		"dropped_units", o.drops.Load())
}

// setState records a state and logs it when it changed.
func (o *output) setState(state, reason string) {
	o.mu.Lock()
	changed := o.status.State != state
	o.status.Reason = reason

	if changed {
		o.status.State = state
		o.status.Since = time.Now().UTC()
	}
	o.mu.Unlock()

	if !changed {
		return
	}

	if reason == "" {
		o.log.Info("output " + state)
	} else {
		o.log.Info("output "+state, "reason", reason)
	}
}

// Status returns the output's state and drop count.
func (o *output) Status() Status {
	o.mu.Lock()
	defer o.mu.Unlock()

	s := o.status
	s.DroppedUnits = o.drops.Load()

	return s
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()

	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// drain empties a channel without blocking.
func drain(ch chan queued) {
	for {
		select {
		case <-ch:
		default:
			return
		}
	}
}
