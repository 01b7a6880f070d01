package transcode

import (
	"log/slog"
	"sync"
	"time"
)

// throttleInterval is how often a per-packet problem is logged at most.
const throttleInterval = time.Second

// throttle logs a repeated per-packet problem at most once a second, with
// the number of occurrences since the last line.
type throttle struct {
	log *slog.Logger
	msg string
	now func() time.Time

	mu    sync.Mutex
	last  time.Time
	count int
}

// Warn counts one occurrence and logs it when the interval has passed.
func (t *throttle) Warn(err error, args ...any) {
	t.mu.Lock()
	t.count++
	now := t.now()

	if !t.last.IsZero() && now.Sub(t.last) < throttleInterval {
		t.mu.Unlock()

		return
	}

	n := t.count
	t.count = 0
	t.last = now
	t.mu.Unlock()

	t.log.Warn(t.msg, append(args, "err", err, "count", n)...)
}
