package transcode

import "github.com/onair/onair/ingest/stream"

// Sink receives the encoded renditions of one broadcast.
type Sink interface {
	// Start is called once, before any unit, with the output tracks: the video
	// rungs from the top down, then the audio track (if the source has audio).
	Start(tracks []*stream.Track) error
	// Write receives one encoded unit. Calls are serialized (one goroutine at a
	// time); units of one track arrive in DTS order.
	Write(u *stream.Unit)
	// End is called once after the last unit.
	End()
}
