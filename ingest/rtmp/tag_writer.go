package rtmp

import (
	"bytes"
	"encoding/binary"
	"io"
	"time"

	"github.com/onair/onair/ingest/stream"
)

// FLV tag fields (FLV spec v10.1, E.4.2 and E.4.3).
const (
	flvFrameKey   = 1 << 4
	flvFrameInter = 2 << 4
	flvCodecAVC   = 7
	// flvAACFlags is SoundFormat 10 (AAC), 44 kHz, 16-bit, stereo: the FLV
	// spec says AAC always sets these, the real values are in the config.
	flvAACFlags      = 0xaf
	flvPacketHeader  = 0
	flvPacketPayload = 1
)

// tagMessage is one FLV tag body to send with its timestamp in ms.
type tagMessage struct {
	audio bool
	ts    uint32
	body  []byte
}

func (m tagMessage) payload() io.Reader {
	return bytes.NewReader(m.body)
}

// tagWriter turns a broadcast's H.264 and AAC units into FLV tags, with
// timestamps from the first unit written. Tracks of other codecs are left
// out: RTMP playback sends the source as it is.
type tagWriter struct {
	tracks []*stream.Track
	origin time.Duration
	begun  bool
}

// headers returns the sequence headers of the tracks RTMP can carry.
func (w *tagWriter) headers() []tagMessage {
	var out []tagMessage

	for _, t := range w.tracks {
		switch {
		case t.Codec == stream.CodecH264 && len(t.SPS) >= 4 && len(t.PPS) > 0:
			out = append(out, tagMessage{body: avcSequenceHeader(t.SPS, t.PPS)})

		case t.Codec == stream.CodecAAC && len(t.AudioConfig) > 0:
			body := append([]byte{flvAACFlags, flvPacketHeader}, t.AudioConfig...)
			out = append(out, tagMessage{audio: true, body: body})
		}
	}

	return out
}

// avcSequenceHeader builds an AVC sequence header tag around an
// AVCDecoderConfigurationRecord (ISO/IEC 14496-15, 5.2.4.1) of one SPS and
// one PPS, with 4-byte NALU lengths.
func avcSequenceHeader(sps, pps []byte) []byte {
	b := []byte{flvFrameKey | flvCodecAVC, flvPacketHeader, 0, 0, 0,
		1, sps[1], sps[2], sps[3], 0xff, 0xe1}
	b = binary.BigEndian.AppendUint16(b, uint16(len(sps)))
	b = append(b, sps...)
	b = append(b, 1)
	b = binary.BigEndian.AppendUint16(b, uint16(len(pps)))

	return append(b, pps...)
}

// unit returns the tag of one unit; ok is false for a track RTMP does not
// carry.
func (w *tagWriter) unit(u *stream.Unit) (tagMessage, bool) {
	if !w.begun {
		w.begun = true
		w.origin = u.DTS
	}

	dts := max(u.DTS-w.origin, 0)
	ts := uint32(dts / time.Millisecond)

	switch u.Track.Codec {
	case stream.CodecH264:
		return tagMessage{ts: ts, body: avcFrameTag(u)}, true

	case stream.CodecAAC:
		body := append([]byte{flvAACFlags, flvPacketPayload}, u.Payload...)

		return tagMessage{audio: true, ts: ts, body: body}, true
	}

	return tagMessage{}, false
}

// avcFrameTag builds an AVC NALU tag: the composition offset in ms, then each
// NAL unit behind its 4-byte length (AVCC).
func avcFrameTag(u *stream.Unit) []byte {
	kind := byte(flvFrameInter)
	if u.Key {
		kind = flvFrameKey
	}

	cts := int32((u.PTS - u.DTS) / time.Millisecond)
	b := make([]byte, 0, 5+u.Size()+4*len(u.NALUs))
	b = append(b, kind|flvCodecAVC, flvPacketPayload, byte(cts>>16), byte(cts>>8), byte(cts))

	for _, n := range u.NALUs {
		b = binary.BigEndian.AppendUint32(b, uint32(len(n)))
		b = append(b, n...)
	}

	return b
}
