package rtmp

import (
	"fmt"

	"github.com/onair/onair/ingest/stream"
)

// FLV VIDEODATA values (FLV spec 10.1, E.4.3.1).
const (
	videoFrameKey     = 1 // keyframe
	videoFrameCommand = 5 // video info / command frame, no picture

	videoCodecAVC  = 7  // AVC
	videoCodecHEVC = 12 // HEVC, a widespread non-standard extension

	avcPacketHeader = 0 // AVCDecoderConfigurationRecord
	avcPacketNALU   = 1 // one or more NALUs
	avcPacketEnd    = 2 // end of sequence
)

// Enhanced RTMP (veovera enhanced-rtmp v1) VideoPacketType values.
const (
	exVideoSequenceStart  = 0
	exVideoCodedFrames    = 1 // with a composition time offset
	exVideoSequenceEnd    = 2
	exVideoCodedFramesX   = 3 // composition time offset is zero, not sent
	exVideoMetadata       = 4
	exVideoMPEG2TSSeqInit = 5

	// exVideoHeaderFlag marks an enhanced header in the first byte.
	exVideoHeaderFlag = 0x80
)

// tagKind says what an FLV tag carries.
type tagKind int

// Kinds of FLV audio and video tags.
const (
	tagOther  tagKind = iota // nothing for the hub (end of sequence, info frames)
	tagHeader                // codec configuration (sequence header)
	tagFrame                 // coded media
)

// videoTag is a parsed FLV VIDEODATA tag.
type videoTag struct {
	Kind  tagKind
	Codec stream.Codec

	// Name is the codec as the publisher signalled it, for logs ("avc1", "id 4").
	Name string

	Key bool

	// CTS is the composition time offset in milliseconds (PTS - DTS).
	CTS int32

	// Data is the AVCDecoderConfigurationRecord of a header, or the
	// length-prefixed NALUs of a frame.
	Data []byte
}

// parseVideoTag parses the body of an FLV video tag. Data aliases buf.
func parseVideoTag(buf []byte) (videoTag, error) {
	if len(buf) < 1 {
		return videoTag{}, fmt.Errorf("video: %w", errShortTag)
	}

	if buf[0]&exVideoHeaderFlag != 0 {
		return parseExVideoTag(buf)
	}

	frameType := buf[0] >> 4
	codecID := buf[0] & 0x0f
	t := videoTag{Key: frameType == videoFrameKey, Name: fmt.Sprintf("id %d", codecID)}

	switch codecID {
	case videoCodecAVC:
		t.Codec = stream.CodecH264
		t.Name = "avc"

	case videoCodecHEVC:
		t.Codec = stream.CodecH265
		t.Name = "hevc"

	default:
		t.Codec = stream.CodecOtherVideo
		t.Name = codecName(flvVideoCodecs, codecID)
		t.Kind = tagHeader

		return t, nil
	}

	if frameType == videoFrameCommand {
		return t, nil
	}

	// AVC and HEVC tags: packet type (1 byte), composition time (SI24).
	if len(buf) < 5 {
		return videoTag{}, fmt.Errorf("%s video tag of %d bytes: %w", t.Name, len(buf), errShortTag)
	}

	t.CTS = int32(uint32(buf[2])<<16|uint32(buf[3])<<8|uint32(buf[4])) << 8 >> 8
	t.Data = buf[5:]

	switch buf[1] {
	case avcPacketHeader:
		t.Kind = tagHeader

	case avcPacketNALU:
		t.Kind = tagFrame

	case avcPacketEnd:
		t.Kind = tagOther

	default:
		return videoTag{}, fmt.Errorf("%s packet type %d is not valid", t.Name, buf[1])
	}

	return t, nil
}

// parseExVideoTag parses an enhanced RTMP video tag (IsExHeader set).
func parseExVideoTag(buf []byte) (videoTag, error) {
	if len(buf) < 5 {
		return videoTag{}, fmt.Errorf("enhanced video tag of %d bytes: %w", len(buf), errShortTag)
	}

	frameType := (buf[0] >> 4) & 0x07
	packetType := buf[0] & 0x0f
	fourCC := string(buf[1:5])
	t := videoTag{Key: frameType == videoFrameKey, Name: fmt.Sprintf("%q", fourCC)}
	body := buf[5:]

	switch fourCC {
	case "avc1":
		t.Codec = stream.CodecH264

	case "hvc1":
		t.Codec = stream.CodecH265

	default:
		// AV1, VP9 and others: named, so that the input fails saying which.
		t.Codec = stream.CodecOtherVideo
		t.Name = fourCCName(fourCC)
		t.Kind = tagHeader

		return t, nil
	}

	if frameType == videoFrameCommand {
		return t, nil
	}

	switch packetType {
	case exVideoSequenceStart:
		t.Kind = tagHeader
		t.Data = body

	case exVideoCodedFrames:
		if len(body) < 3 {
			return videoTag{}, fmt.Errorf("%s coded frames of %d bytes: %w",
				t.Name, len(buf), errShortTag)
		}

		t.Kind = tagFrame
		t.CTS = int32(uint32(body[0])<<16|uint32(body[1])<<8|uint32(body[2])) << 8 >> 8
		t.Data = body[3:]

	case exVideoCodedFramesX:
		t.Kind = tagFrame
		t.Data = body

	case exVideoSequenceEnd, exVideoMetadata, exVideoMPEG2TSSeqInit:
		t.Kind = tagOther

	default:
		return videoTag{}, fmt.Errorf("%s video packet type %d is not supported", t.Name, packetType)
	}

	return t, nil
}
