package playbench

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strconv"
	"testing"
	"time"
)

// Parameter sets of a 1280x720 libx264 stream, and an AudioSpecificConfig of
// AAC-LC at 44100 Hz, stereo.
var (
	sps720 = []byte{0x67, 0x64, 0x00, 0x1f, 0xac, 0x24, 0x84, 0x01, 0x40, 0x16, 0xec, 0x04,
		0x40, 0x00, 0x00, 0x03, 0x00, 0x40, 0x00, 0x00, 0x0c, 0x23, 0xc6, 0x0c, 0x92}
	pps720 = []byte{0x68, 0xee, 0x32, 0xc8, 0xb0}
	asc44k = []byte{0x12, 0x10}
)

// The stream the publisher sends: 25 fps with a keyframe every 2 s, at about
// 1.1 Mbit/s.
const (
	frameInterval = 40 * time.Millisecond
	keyInterval   = 50
	keySize       = 40000
	frameSize     = 5000
)

// frameMarker precedes the eight decimal digits of the index written into
// every picture, so that a reader finds it in an FLV tag or an MPEG-TS PES
// alike; marker and digits hold no zero byte, which Annex B could take for
// part of a start code.
const frameMarker = "onair-frame:"

// frameIndex finds the index written by picture in b.
func frameIndex(b []byte) (int, bool) {
	i := bytes.Index(b, []byte(frameMarker))
	if i < 0 || len(b) < i+len(frameMarker)+8 {
		return 0, false
	}

	n, err := strconv.Atoi(string(b[i+len(frameMarker) : i+len(frameMarker)+8]))

	return n, err == nil
}

// picture returns the NAL unit of frame i: an IDR slice every keyInterval
// frames, a non-IDR slice otherwise, holding the frame's index.
func picture(i int) []byte {
	size, header := frameSize, byte(0x41)
	if i%keyInterval == 0 {
		size, header = keySize, 0x65
	}

	nalu := bytes.Repeat([]byte{0xab}, size)
	nalu[0] = header
	copy(nalu[1:], fmt.Sprintf("%s%08d", frameMarker, i))

	return nalu
}

// videoTag wraps a NAL unit in an FLV AVC tag (FLV spec E.4.3.1).
func videoTag(i int) []byte {
	nalu := picture(i)
	b := []byte{0x27, 1, 0, 0, 0}
	if i%keyInterval == 0 {
		b[0] = 0x17
	}

	b = binary.BigEndian.AppendUint32(b, uint32(len(nalu)))

	return append(b, nalu...)
}

// avcHeader is the FLV AVC sequence header of sps720 and pps720
// (ISO/IEC 14496-15 5.2.4.1).
func avcHeader() []byte {
	b := []byte{0x17, 0, 0, 0, 0, 1, sps720[1], sps720[2], sps720[3], 0xff, 0xe1}
	b = binary.BigEndian.AppendUint16(b, uint16(len(sps720)))
	b = append(b, sps720...)
	b = append(b, 1)
	b = binary.BigEndian.AppendUint16(b, uint16(len(pps720)))

	return append(b, pps720...)
}

func TestFrameIndex(t *testing.T) {
	cases := []struct {
		name string
		b    []byte
		want int
		ok   bool
	}{
		{"keyframe", picture(0), 0, true},
		{"picture", picture(1234), 1234, true},
		{"in an flv tag", videoTag(7), 7, true},
		{"no marker", bytes.Repeat([]byte{0xab}, 100), 0, false},
		{"cut short", []byte(frameMarker + "0001"), 0, false},
		{"not digits", []byte(frameMarker + "0001x000"), 0, false},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := frameIndex(tc.b)
			if got != tc.want || ok != tc.ok {
				t.Errorf("frameIndex = %d, %v; want %d, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}
