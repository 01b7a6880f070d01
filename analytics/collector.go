package analytics

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// Session and batching limits.
const (
	// SessionIdle ends a session: a request after this long without one
	// starts a new session, which is a new view.
	SessionIdle = 60 * time.Second

	// LiveWindow is how recent a session's last request must be for it to
	// count among an id's live viewers.
	LiveWindow = 30 * time.Second

	// defaultFlushEvery is how often counts go to the Sink.
	defaultFlushEvery = 10 * time.Second

	// maxBatchRows bounds the rows of one Sink call.
	maxBatchRows = 500

	// maxSessions bounds the sessions kept; past it, a new viewer's requests
	// are still counted as minutes, but each is a view of its own.
	maxSessions = 200_000

	// maxPendingRows bounds the rows kept while the Sink fails; past it the
	// oldest failed batch is dropped.
	maxPendingRows = 100_000

	// sinkTimeout bounds one Sink call.
	sinkTimeout = 5 * time.Second
)

// Sink stores rows, adding each to the row already stored for the same
// minute and dimensions.
type Sink interface {
	AddViews(ctx context.Context, rows []Row) error
}

// Collector counts views and minutes viewed from Requests. Fill the fields,
// then Start; Close flushes what is left.
type Collector struct {
	// Sink stores the rows. Required.
	Sink Sink

	// Log receives storage failures; nil discards them.
	Log *slog.Logger

	// FlushEvery is how often rows are stored. Zero means 10 s.
	FlushEvery time.Duration

	// Now is the clock of Requests without a Time, of idle sessions and of
	// live viewers; nil means time.Now.
	Now func() time.Time

	mu       sync.Mutex
	sessions map[string]map[string]time.Time // uid → session key → last request
	count    int                             // sessions kept
	pending  map[rowKey]*Row
	full     bool // maxSessions reached; logged once

	flushMu sync.Mutex // one flush at a time
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// Start begins storing rows every FlushEvery.
func (c *Collector) Start() error {
	if c.Sink == nil {
		return errors.New("analytics collector needs a sink")
	}

	c.sessions = map[string]map[string]time.Time{}
	c.pending = map[rowKey]*Row{}
	c.ctx, c.cancel = context.WithCancel(context.Background())

	c.wg.Add(1)
	go c.run()

	return nil
}

// Close stops the collector after storing every count it holds.
func (c *Collector) Close() error {
	c.cancel()
	c.wg.Wait()

	return c.Flush(context.Background())
}

func (c *Collector) run() {
	defer c.wg.Done()

	t := time.NewTicker(cmp.Or(c.FlushEvery, defaultFlushEvery))
	defer t.Stop()

	for {
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
		}

		c.evict()

		if err := c.Flush(c.ctx); err != nil && c.ctx.Err() == nil {
			c.logger().Warn("analytics not stored; will retry", "error", err)
		}
	}
}

// Record counts one request: its media time goes to its minute, and it
// starts a view when its session is new or was idle for SessionIdle.
func (c *Collector) Record(r Request) {
	t := r.Time
	if t.IsZero() {
		t = c.now()
	}

	t = t.UTC()
	key := rowKey{minute: t.Truncate(time.Minute).Unix(), uid: r.UID,
		liveInput: r.LiveInput, creator: r.Creator, country: r.Country}

	c.mu.Lock()
	defer c.mu.Unlock()

	row := c.pending[key]
	if row == nil {
		row = &Row{Minute: time.Unix(key.minute, 0).UTC(), UID: r.UID, LiveInput: r.LiveInput,
			Creator: r.Creator, Country: r.Country}
		c.pending[key] = row
	}

	row.MediaSeconds += r.Media.Seconds()

	if c.touch(r.UID, r.Session, t) {
		row.Views++
	}
}

// touch notes a request of session on uid at t and reports whether it
// starts a new session.
func (c *Collector) touch(uid, session string, t time.Time) bool {
	byKey := c.sessions[uid]

	last, ok := byKey[session]
	if ok {
		if t.After(last) {
			byKey[session] = t
		}

		return t.Sub(last) > SessionIdle
	}

	if c.count >= maxSessions {
		if !c.full {
			c.full = true
			c.logger().Warn("too many viewer sessions; new ones are not followed",
				"limit", maxSessions)
		}

		return true
	}

	if byKey == nil {
		byKey = map[string]time.Time{}
		c.sessions[uid] = byKey
	}

	byKey[session] = t
	c.count++

	return true
}

// LiveViewers returns how many sessions of uid made a request within the
// last LiveWindow.
func (c *Collector) LiveViewers(uid string) int {
	since := c.now().Add(-LiveWindow)

	c.mu.Lock()
	defer c.mu.Unlock()

	n := 0

	for _, last := range c.sessions[uid] {
		if last.After(since) {
			n++
		}
	}

	return n
}

// evict forgets sessions idle for longer than SessionIdle.
func (c *Collector) evict() {
	before := c.now().Add(-SessionIdle)

	c.mu.Lock()
	defer c.mu.Unlock()

	for uid, byKey := range c.sessions {
		for key, last := range byKey {
			if last.Before(before) {
				delete(byKey, key)
				c.count--
			}
		}

		if len(byKey) == 0 {
			delete(c.sessions, uid)
		}
	}

	c.full = c.count >= maxSessions
}

// Flush stores every count held so far, in batches of at most maxBatchRows.
// Rows a failed batch held are kept for the next flush.
func (c *Collector) Flush(ctx context.Context) error {
	c.flushMu.Lock()
	defer c.flushMu.Unlock()

	c.mu.Lock()
	rows := make([]Row, 0, len(c.pending))
	for _, r := range c.pending {
		rows = append(rows, *r)
	}
	c.pending = map[rowKey]*Row{}
	c.mu.Unlock()

	for len(rows) > 0 {
		n := min(len(rows), maxBatchRows)

		sctx, cancel := context.WithTimeout(ctx, sinkTimeout)
		err := c.Sink.AddViews(sctx, rows[:n])
		cancel()

		if err != nil {
			c.restore(rows)

			return err
		}

		rows = rows[n:]
	}

	return nil
}

// restore puts back rows a failed flush did not store, dropping them when
// too many are waiting.
func (c *Collector) restore(rows []Row) {
	c.mu.Lock()
	defer c.mu.Unlock()

	if len(c.pending)+len(rows) > maxPendingRows {
		c.logger().Warn("analytics rows dropped: storage keeps failing", "rows", len(rows))

		return
	}

	for _, r := range rows {
		key := rowKey{minute: r.Minute.Unix(), uid: r.UID, liveInput: r.LiveInput,
			creator: r.Creator, country: r.Country}

		if p := c.pending[key]; p != nil {
			p.MediaSeconds += r.MediaSeconds
			p.Views += r.Views
		} else {
			row := r
			c.pending[key] = &row
		}
	}
}

func (c *Collector) now() time.Time {
	if c.Now == nil {
		return time.Now()
	}

	return c.Now()
}

func (c *Collector) logger() *slog.Logger {
	if c.Log == nil {
		return slog.New(slog.DiscardHandler)
	}

	return c.Log
}
