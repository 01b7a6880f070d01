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

// dial opens a connection to d for a broadcast of tracks with the client of
// d's scheme, giving up when ctx is done.
func dial(ctx context.Context, d *destination.Destination, tracks []*stream.Track) (pusher, error) {
	if d.Scheme == "srt" {
		return dialSRT(ctx, d, tracks)
	}

	return dialRTMP(ctx, d, tracks)
}
