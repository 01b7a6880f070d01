package stream

import (
	"fmt"
	"time"
)

// Codec names the compression format of a track.
type Codec int

// Codecs onair can carry. Only H264 and AAC are transcoded today; the others
// are recognised so that a publisher gets a clear "unsupported codec" reason.
const (
	CodecUnknown Codec = iota
	CodecH264
	CodecH265
	CodecAAC
	CodecOpus
	CodecMP3

	// CodecOtherVideo and CodecOtherAudio are codecs onair does not know;
	// Track.Format names them as the source did.
	CodecOtherVideo
	CodecOtherAudio
)

// String returns the codec's common name.
func (c Codec) String() string {
	switch c {
	case CodecH264:
		return "H.264"
	case CodecH265:
		return "H.265"
	case CodecAAC:
		return "AAC"
	case CodecOpus:
		return "Opus"
	case CodecMP3:
		return "MP3"
	case CodecOtherVideo:
		return "unrecognised video codec"
	case CodecOtherAudio:
		return "unrecognised audio codec"
	}

	return fmt.Sprintf("unknown codec %d", int(c))
}

// IsVideo reports whether the codec carries pictures.
func (c Codec) IsVideo() bool {
	return c == CodecH264 || c == CodecH265 || c == CodecOtherVideo
}

// Track describes one elementary stream of a broadcast. A track is immutable
// once a Broadcast has started with it: a change of codec parameters starts a
// new Broadcast.
type Track struct {
	// ID is unique within a broadcast, starting at 1.
	ID int

	// Codec is the compression format.
	Codec Codec

	// Format is the source's own name for the codec ("Sorenson H.263",
	// "MPEG-2 video"), where Codec alone does not say it.
	Format string

	// Name labels a rendition ("720p", "audio"); empty for source tracks.
	Name string

	// VPS, SPS and PPS are the H.264/H.265 parameter sets, without start
	// codes. VPS is only set for H.265.
	VPS, SPS, PPS []byte

	// Width, Height and FrameRate describe the pictures, when known.
	Width, Height int
	FrameRate     float64

	// AudioConfig is the raw AAC AudioSpecificConfig (ISO/IEC 14496-3 1.6.2.1).
	AudioConfig []byte

	// SampleRate and Channels describe the audio, read from AudioConfig for AAC.
	SampleRate, Channels int

	// Bitrate is the target bitrate in bits per second of an encoded rendition;
	// zero for source tracks.
	Bitrate int
}

// IsVideo reports whether the track carries pictures.
func (t *Track) IsVideo() bool {
	return t.Codec.IsVideo()
}

// CodecName names the track's codec for people: Format when the source gave
// one, else the codec's common name.
func (t *Track) CodecName() string {
	if t.Format != "" {
		return t.Format
	}

	return t.Codec.String()
}

// Unit is one access unit: a picture or an audio frame.
//
// Timestamps are time.Duration values (the time base is the nanosecond),
// relative to an origin chosen by the producer and rising within a broadcast.
// DTS is never above PTS; they differ when pictures are reordered (B-frames).
type Unit struct {
	Track *Track

	PTS time.Duration
	DTS time.Duration

	// Key marks a picture a decoder can start from (an IDR picture) and is
	// always true for audio.
	Key bool

	// NALUs holds a picture's NAL units without start codes or length
	// prefixes (video tracks).
	NALUs [][]byte

	// Payload holds one raw audio frame: AAC without ADTS header, one Opus
	// packet (audio tracks).
	Payload []byte

	// Received is when the unit reached the hub: Broadcast.Write sets it
	// unless the producer did. Readers measure how far behind they are from it.
	Received time.Time
}

// Size returns the number of media bytes the unit carries.
func (u *Unit) Size() int {
	n := len(u.Payload)
	for _, nalu := range u.NALUs {
		n += len(nalu)
	}

	return n
}
