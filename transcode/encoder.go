package transcode

import (
	"fmt"

	"github.com/asticode/go-astiav"
)

// videoTimeBase is the time base of every video picture inside the pipeline,
// the MPEG 90 kHz clock.
var videoTimeBase = astiav.NewRational(1, 90000)

// EncoderConfig says how to open one rung's encoder.
type EncoderConfig struct {
	Rung    Rung
	Preset  string // speed/quality trade-off, "veryfast" to "ultrafast"
	Threads int    // encoder threads, at least 1

	// KeyInterval bounds the pictures between keyframes that the encoder
	// places itself; the pipeline forces its own keyframes well before.
	KeyInterval int
}

// Picture is one encoded picture, with timestamps in 1/90000 s.
type Picture struct {
	PTS, DTS int64
	Key      bool
	NALUs    [][]byte // without start codes, AUD removed
}

// VideoEncoder encodes the pictures of one rung. It is used from one
// goroutine at a time.
type VideoEncoder interface {
	// PixelFormat is the format Encode expects its frames in.
	PixelFormat() astiav.PixelFormat

	// ParameterSets returns the SPS and PPS, without start codes.
	ParameterSets() (sps, pps []byte)

	// Encode encodes a frame of the rung's size with PTS in 1/90000 s,
	// coding it as a keyframe when key is set, and returns the pictures that
	// came out. A nil frame flushes the encoder.
	Encode(f *astiav.Frame, key bool) ([]Picture, error)

	// Close frees the encoder.
	Close()
}

// EncoderFactory opens a rung's encoder.
type EncoderFactory func(cfg EncoderConfig) (VideoEncoder, error)

// DefaultEncoder is the encoder used when Pipeline.Encoder is empty.
const DefaultEncoder = "libx264"

// LookupEncoder returns the factory of the named encoder. It fails with
// ErrUnknownEncoder for a name it does not know, and with an error saying so
// when the FFmpeg libraries lack that encoder. The hardware encoders
// (h264_nvenc, h264_qsv, h264_vaapi) are found whether or not their device is
// present: ProbeEncoders tells whether one works.
func LookupEncoder(name string) (EncoderFactory, error) {
	switch name {
	case "", DefaultEncoder:
		if astiav.FindEncoderByName("libx264") == nil {
			return nil, fmt.Errorf("encoder libx264 is not in this FFmpeg build")
		}

		return openX264, nil
	}

	if b, ok := backendByEncoder(name); ok {
		if astiav.FindEncoderByName(b.encoder) == nil {
			return nil, fmt.Errorf("encoder %s is not in this FFmpeg build", b.encoder)
		}

		return func(cfg EncoderConfig) (VideoEncoder, error) { return openHardware(b, cfg) }, nil
	}

	return nil, fmt.Errorf("%w %q (known: %s, h264_nvenc, h264_qsv, h264_vaapi)",
		ErrUnknownEncoder, name, DefaultEncoder)
}
