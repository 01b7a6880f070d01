package transcode

import "time"

// Controller defaults.
const (
	// defaultHighLag is the lag above which encoding is behind.
	defaultHighLag = 1500 * time.Millisecond

	// defaultLowLag is the lag below which there is room to spare.
	defaultLowLag = 300 * time.Millisecond

	// defaultUpAfter is how many observations in a row above HighLag, with
	// the lag not falling, raise the level.
	defaultUpAfter = 2

	// catchingUp is how much a lag above HighLag must have fallen since the
	// last observation for the pipeline to count as catching up: then the
	// level stays, since a faster preset chosen a moment ago is still
	// draining the backlog, and raising it again would overshoot.
	catchingUp = 100 * time.Millisecond

	// defaultDownAfter is how many observations in a row below LowLag lower
	// it: much longer than UpAfter, so that levels do not flap.
	defaultDownAfter = 20

	// defaultSettle is how many observations after raising the level do not
	// count as falling behind: the new level applies at the next segment
	// boundary and needs a moment to drain the backlog.
	defaultSettle = 3

	// maxBackoff bounds how many times DownAfter a level must wait before
	// trying the better level again, after such tries failed.
	maxBackoff = 16
)

// presets are the libx264 presets a rung steps through, from the best.
var presets = []string{"veryfast", "superfast", "ultrafast"}

// Controller turns lag observations into a level with hysteresis. Level 0 is
// full quality; levels 1 to len(presets)-1 pick faster presets; each level
// above drops the top remaining rung. The zero value needs Rungs set; the
// other fields default when zero. It is not safe for concurrent use.
type Controller struct {
	// Rungs is the number of rungs in the ladder.
	Rungs int

	// HighLag and LowLag are the thresholds; UpAfter and DownAfter the number
	// of observations in a row past them that change the level.
	HighLag, LowLag    time.Duration
	UpAfter, DownAfter int

	// Settle is how many observations after a raise a lag above HighLag is
	// not counted; negative means none.
	Settle int

	level       int
	over, under int
	last        time.Duration // the previous observation
	settle      int           // observations left to settle after a raise

	// A machine that cannot hold the better level would otherwise fall
	// behind again every DownAfter observations: each try that fails
	// (raised again soon after lowering) doubles the wait before the next.
	seen      int // observations so far
	loweredAt int // seen when the level was last lowered
	backoff   int // DownAfter multiplier, 1 to maxBackoff
}

// MaxLevel returns the highest level: fastest preset, one rung left.
func (c *Controller) MaxLevel() int {
	return len(presets) - 1 + max(c.Rungs-1, 0)
}

// Level returns the current level.
func (c *Controller) Level() int {
	return c.level
}

// Observe records the worst lag of the active rungs and returns the level,
// and whether it changed. A lag above HighLag that is falling fast enough
// counts as catching up, not as falling behind. A better level that did not
// hold is tried again only after twice as long as the time before.
func (c *Controller) Observe(lag time.Duration) (level int, changed bool) {
	high, low := c.HighLag, c.LowLag
	if high <= 0 {
		high = defaultHighLag
	}

	if low <= 0 {
		low = defaultLowLag
	}

	last := c.last
	c.last = lag
	c.seen++

	settling := c.settle > 0
	if settling {
		c.settle--
	}

	c.backoff = max(c.backoff, 1)
	downAfter := orDefault(c.DownAfter, defaultDownAfter)

	switch {
	case lag > high && (settling || lag < last-catchingUp):
		c.over, c.under = 0, 0
	case lag > high:
		c.over++
		c.under = 0
	case lag < low:
		c.under++
		c.over = 0
	default:
		c.over, c.under = 0, 0
	}

	switch {
	case c.over >= orDefault(c.UpAfter, defaultUpAfter) && c.level < c.MaxLevel():
		if c.loweredAt > 0 && c.seen-c.loweredAt <= 2*downAfter {
			c.backoff = min(c.backoff*2, maxBackoff)
		} else {
			c.backoff = 1
		}

		c.level++
		c.over = 0
		c.settle = c.Settle
		if c.Settle == 0 {
			c.settle = defaultSettle
		}

		return c.level, true
	case c.under >= downAfter*c.backoff && c.level > 0:
		c.level--
		c.under = 0
		c.loweredAt = c.seen

		return c.level, true
	}

	return c.level, false
}

// Plan returns, for a level, the preset every active rung uses and how many
// rungs are dropped from the top.
func (c *Controller) Plan(level int) (preset string, dropped int) {
	level = min(max(level, 0), c.MaxLevel())
	if level < len(presets) {
		return presets[level], 0
	}

	return presets[len(presets)-1], level - (len(presets) - 1)
}

func orDefault(v, def int) int {
	if v <= 0 {
		return def
	}

	return v
}
