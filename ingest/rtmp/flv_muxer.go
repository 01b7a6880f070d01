package rtmp

import "github.com/onair/onair/ingest/stream"

// FLVTag is one FLV tag body as an RTMP audio or video message carries it.
type FLVTag struct {
	// Audio is true for an audio message, false for a video message.
	Audio bool

	// Timestamp is the tag's DTS in milliseconds from the first unit written.
	Timestamp uint32

	// Body is the tag body (FLV spec v10.1, E.4.2 and E.4.3).
	Body []byte
}

// FLVMuxer turns a broadcast's H.264 and AAC units into FLV tags, the same
// way RTMP playback does, for a push client to send. Units of other codecs
// are left out. Timestamps start at zero with the first unit given.
type FLVMuxer struct {
	w tagWriter
}

// NewFLVMuxer returns a muxer of a broadcast's tracks.
func NewFLVMuxer(tracks []*stream.Track) *FLVMuxer {
	return &FLVMuxer{w: tagWriter{tracks: tracks}}
}

// Headers returns the AVC and AAC sequence headers to send first.
func (m *FLVMuxer) Headers() []FLVTag {
	msgs := m.w.headers()
	out := make([]FLVTag, 0, len(msgs))

	for _, msg := range msgs {
		out = append(out, FLVTag{Audio: msg.audio, Timestamp: msg.ts, Body: msg.body})
	}

	return out
}

// Tag returns the tag of one unit; ok is false for a track FLV does not carry.
func (m *FLVMuxer) Tag(u *stream.Unit) (tag FLVTag, ok bool) {
	msg, ok := m.w.unit(u)

	return FLVTag{Audio: msg.audio, Timestamp: msg.ts, Body: msg.body}, ok
}
