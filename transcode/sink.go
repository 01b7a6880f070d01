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

// TrackSwitcher is implemented by a Sink that can take a new description of
// a rendition mid-broadcast. When a rung changes encoder (a hardware encoder
// failed and libx264 took over at a segment boundary) its parameter sets
// change: the pipeline calls SwitchTrack with a new track of the same ID and
// Name, before the first unit of that track, whose first picture is a
// keyframe at a segment boundary. A Sink that does not implement it receives
// the new track's units all the same, with the SPS and PPS in-band on every
// keyframe.
type TrackSwitcher interface {
	SwitchTrack(t *stream.Track) error
}
