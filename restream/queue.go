package restream

import (
	"sync/atomic"

	"github.com/onair/onair/ingest/stream"
)

// queued is a unit bound for the connection that was open when it was
// queued; a later connection skips it.
type queued struct {
	u    *stream.Unit
	conn int64
}

// queue stands between the hub and one destination. Its pump drains the
// hub's reader at once, so that the hub never drops the output, and keeps at
// most cap(ch) units for the connection: when the destination is slower than
// the source, the unit that does not fit and those after it up to the next
// video keyframe are dropped and counted.
type queue struct {
	ch    chan queued
	done  chan struct{} // closed when the reader's broadcast ended or it was closed
	video bool          // the broadcast has video: connections start at a keyframe

	// conn is the connection that units are queued for; 0 while none is
	// open, when units are let go without being counted.
	conn atomic.Int64

	drops *atomic.Int64 // units dropped because the queue was full
}

func newQueue(size int, tracks []*stream.Track, drops *atomic.Int64) *queue {
	q := &queue{ch: make(chan queued, size), done: make(chan struct{}), drops: drops}

	for _, t := range tracks {
		if t.IsVideo() {
			q.video = true
		}
	}

	return q
}

// pump moves units from r into the queue until r is closed.
func (q *queue) pump(r *stream.Reader, overflow func()) {
	defer close(q.done)

	var (
		last     int64
		needKey  bool
		dropping bool // needKey after an overflow: skipped units count as drops
	)

	for u := range r.Units() {
		conn := q.conn.Load()
		if conn == 0 {
			continue
		}

		if conn != last {
			last = conn
			needKey = true
			dropping = false
		}

		if needKey {
			if q.video && !(u.Key && u.Track.IsVideo()) {
				if dropping {
					q.drops.Add(1)
				}

				continue
			}

			needKey = false
			dropping = false
		}

		select {
		case q.ch <- queued{u: u, conn: conn}:
		default:
			q.drops.Add(1)
			needKey = true
			dropping = true

			overflow()
		}
	}
}
