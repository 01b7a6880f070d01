package transcode

import (
	"errors"

	"github.com/onair/onair/ingest/stream"
)

// UnsupportedCodecError is returned by Pipeline.Start when a source track uses
// a codec the transcoder cannot decode (only H.264 video and AAC audio are).
type UnsupportedCodecError struct {
	Codec stream.Codec
	Name  string // the codec as the source named it; Codec's name when empty
	Video bool   // the track carries pictures
}

func (e *UnsupportedCodecError) Error() string {
	kind := "audio"
	if e.Video {
		kind = "video"
	}

	name := e.Name
	if name == "" {
		name = e.Codec.String()
	}

	return "unsupported " + kind + " codec " + name
}

// ErrNoTracks is returned by Pipeline.Start when the source has neither an
// H.264 nor an AAC track.
var ErrNoTracks = errors.New("source has no video or audio track")

// ErrUnknownEncoder is returned by LookupEncoder for a name it does not know.
var ErrUnknownEncoder = errors.New("unknown video encoder")

// ErrNoReader is returned by Pipeline.Start when Reader or Sink is nil.
var ErrNoReader = errors.New("pipeline needs a reader and a sink")

// ErrStarted is returned by Pipeline.Start when called twice.
var ErrStarted = errors.New("pipeline already started")

// ErrHardwareFrames is why h264_vaapi cannot be used: it takes only frames in
// device memory, and go-astiav v0.16.0 cannot create a hardware frames
// context to upload them into.
var ErrHardwareFrames = errors.New(
	"needs hardware frames, which go-astiav v0.16.0 cannot create (not supported by this build)")

// ErrHardwareUnavailable is returned by ProbeEncoders when the hardware
// encoder --hwaccel names explicitly cannot encode on this machine.
var ErrHardwareUnavailable = errors.New("hardware encoder unavailable")
