package restream

import (
	"context"

	"github.com/onair/onair/ingest/stream"
	"github.com/onair/onair/restream/destination"
)

// pusher is one open connection to a destination that takes a broadcast's
// units in order.
type pusher interface {
	// write sends one unit; an error ends the connection.
	write(u *stream.Unit) error

	// close closes the connection; it may be called from another goroutine
	// while write is blocked, and more than once.
	close()
}

// dialFunc opens a connection to d for a broadcast of tracks, giving up when
// ctx is done.
type dialFunc func(ctx context.Context, d *destination.Destination, tracks []*stream.Track) (pusher, error)

// dial picks the client of d's scheme.
func dial(ctx context.Context, d *destination.Destination, tracks []*stream.Track) (pusher, error) {
	if d.Scheme == "srt" {
		return dialSRT(ctx, d, tracks)
	}

	return dialRTMP(ctx, d, tracks)
}
