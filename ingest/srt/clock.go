package srt

import "time"

// MPEG-TS timestamps count a 90 kHz clock in 33 bits (ISO/IEC 13818-1,
// 2.4.3.7), so they wrap about every 26.5 hours.
const (
	tsClockRate = 90000
	tsClockBits = 33
	tsClockMask = 1<<tsClockBits - 1
)

// clock unwraps 33-bit timestamps into a rising 64-bit count: each value is
// taken as the one nearest to the previous value, so that a wrap, forward or
// backward, moves by the small step it really was.
type clock struct {
	started bool
	last    int64
}

// unwrap returns raw as a 90 kHz count on the unwrapped timeline.
func (c *clock) unwrap(raw int64) int64 {
	raw &= tsClockMask
	if !c.started {
		c.started = true
		c.last = raw

		return raw
	}

	d := (raw - c.last) & tsClockMask
	if d >= 1<<(tsClockBits-1) {
		d -= 1 << tsClockBits
	}

	c.last += d

	return c.last
}

// tsDuration converts a 90 kHz count to a duration.
func tsDuration(ticks int64) time.Duration {
	// Split to avoid overflow: ticks can hold up to 2^63 / 1e9 ≈ 9.2e9 before
	// the multiplication overflows, about 28 hours of 90 kHz.
	sec := ticks / tsClockRate
	rem := ticks % tsClockRate

	return time.Duration(sec)*time.Second + time.Duration(rem)*time.Second/tsClockRate
}
