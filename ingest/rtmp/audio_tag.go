package rtmp

import (
	"fmt"

	"github.com/onair/onair/ingest/stream"
)

// FLV AUDIODATA SoundFormat values (FLV spec 10.1, E.4.2.1).
const (
	soundFormatMP3     = 2
	soundFormatExHdr   = 9 // enhanced RTMP: a FourCC follows
	soundFormatAAC     = 10
	soundFormatMP3Rate = 14 // MP3 8 kHz

	aacPacketHeader = 0 // AudioSpecificConfig
	aacPacketRaw    = 1 // one raw AAC frame
)

// Enhanced RTMP AudioPacketType values.
const (
	exAudioSequenceStart = 0
	exAudioCodedFrames   = 1
)

// flvSoundRates are the SoundRate values of the FLV audio flags. They are
// only a hint: AAC's real rate is in its AudioSpecificConfig.
var flvSoundRates = [4]int{5512, 11025, 22050, 44100}

// audioTag is a parsed FLV AUDIODATA tag.
type audioTag struct {
	Kind  tagKind
	Codec stream.Codec

	// Name is the codec as the publisher signalled it, for logs.
	Name string

	// SampleRate and Channels are the FLV flags, used only for codecs
	// without a configuration record.
	SampleRate, Channels int

	// Data is the AudioSpecificConfig of a header or the frame.
	Data []byte
}

// parseAudioTag parses the body of an FLV audio tag. Data aliases buf.
func parseAudioTag(buf []byte) (audioTag, error) {
	if len(buf) < 1 {
		return audioTag{}, fmt.Errorf("audio: %w", errShortTag)
	}

	format := buf[0] >> 4
	t := audioTag{
		Name:       fmt.Sprintf("id %d", format),
		SampleRate: flvSoundRates[(buf[0]>>2)&0x03],
		Channels:   int(buf[0]&0x01) + 1,
	}

	switch format {
	case soundFormatAAC:
		return parseAACTag(t, buf)

	case soundFormatExHdr:
		return parseExAudioTag(buf)

	case soundFormatMP3, soundFormatMP3Rate:
		if format == soundFormatMP3Rate {
			t.SampleRate = 8000
		}

		t.Codec = stream.CodecMP3
		t.Name = "mp3"
		t.Kind = tagHeader // MP3 has no configuration: every frame describes itself
		t.Data = buf[1:]

		return t, nil

	default:
		t.Codec = stream.CodecOtherAudio
		t.Name = codecName(flvAudioCodecs, format)
		t.Kind = tagHeader

		return t, nil
	}
}

// parseAACTag parses the AACAUDIODATA following the flags byte.
func parseAACTag(t audioTag, buf []byte) (audioTag, error) {
	if len(buf) < 2 {
		return audioTag{}, fmt.Errorf("aac audio tag of %d bytes: %w", len(buf), errShortTag)
	}

	t.Codec = stream.CodecAAC
	t.Name = "aac"
	t.Data = buf[2:]

	switch buf[1] {
	case aacPacketHeader:
		t.Kind = tagHeader

	case aacPacketRaw:
		t.Kind = tagFrame

	default:
		return audioTag{}, fmt.Errorf("aac packet type %d is not valid", buf[1])
	}

	return t, nil
}

// parseExAudioTag parses an enhanced RTMP audio tag (SoundFormat 9).
func parseExAudioTag(buf []byte) (audioTag, error) {
	if len(buf) < 5 {
		return audioTag{}, fmt.Errorf("enhanced audio tag of %d bytes: %w", len(buf), errShortTag)
	}

	fourCC := string(buf[1:5])
	t := audioTag{Name: fmt.Sprintf("%q", fourCC), Data: buf[5:]}

	switch fourCC {
	case "mp4a":
		t.Codec = stream.CodecAAC

	case "Opus":
		t.Codec = stream.CodecOpus

	case ".mp3":
		t.Codec = stream.CodecMP3

	default:
		t.Codec = stream.CodecOtherAudio
		t.Name = fourCCName(fourCC)
		t.Kind = tagHeader

		return t, nil
	}

	switch buf[0] & 0x0f {
	case exAudioSequenceStart:
		t.Kind = tagHeader

	case exAudioCodedFrames:
		t.Kind = tagFrame

	default:
		t.Kind = tagOther
	}

	if t.Codec == stream.CodecMP3 && t.Kind == tagFrame {
		t.Kind = tagHeader // MP3 frames describe themselves
	}

	return t, nil
}
