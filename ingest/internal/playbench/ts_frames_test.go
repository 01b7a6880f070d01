package playbench

import (
	"bytes"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"
)

// MPEG-TS packet layout (ISO/IEC 13818-1 2.4.3.2) and the PES stream IDs of
// video (table 2-22: 1110 xxxx).
const (
	tsPacketSize = 188
	tsSyncByte   = 0x47
	pesVideoMask = 0xf0
	pesVideoID   = 0xe0
)

// tsFrames cuts the video PES packets of an MPEG-TS stream into frames: a
// packet with payload_unit_start_indicator set and a video PES header begins
// the next one. A frame is whole when the packet before the next one came.
type tsFrames struct {
	onFrame func(b []byte, at time.Time)

	pid  int
	buf  []byte // the frame being gathered; nil before the first
	last time.Time
}

// packet takes one TS packet that arrived at at.
func (f *tsFrames) packet(p []byte, at time.Time) {
	if len(p) != tsPacketSize || p[0] != tsSyncByte {
		return
	}

	pid := int(p[1]&0x1f)<<8 | int(p[2])
	start := p[1]&0x40 != 0

	payload, ok := tsPayload(p)
	if !ok {
		return
	}

	switch {
	case start && isVideoPES(payload):
		f.flush()
		f.pid = pid
		f.buf = append(f.buf, payload...)
		f.last = at

	case f.buf != nil && pid == f.pid && !start:
		f.buf = append(f.buf, payload...)
		f.last = at
	}
}

// flush hands the frame gathered so far to onFrame.
func (f *tsFrames) flush() {
	if len(f.buf) > 0 {
		f.onFrame(f.buf, f.last)
	}

	if f.buf != nil {
		f.buf = f.buf[:0]
	}
}

// tsPayload returns the payload of a packet, after its adaptation field
// (ISO/IEC 13818-1 2.4.3.5).
func tsPayload(p []byte) ([]byte, bool) {
	control := p[3] >> 4 & 3
	off := 4

	if control&2 != 0 {
		off += 1 + int(p[4])
	}

	if control&1 == 0 || off >= tsPacketSize {
		return nil, false
	}

	return p[off:], true
}

// isVideoPES reports whether b begins with the header of a video PES packet
// (ISO/IEC 13818-1 2.4.3.6).
func isVideoPES(b []byte) bool {
	return len(b) >= 4 && b[0] == 0 && b[1] == 0 && b[2] == 1 && b[3]&pesVideoMask == pesVideoID
}

// The readers' frame finding is checked against the muxer onair's SRT
// players use, so that a broken parser cannot pass for a fast server.
func TestFramesFoundInMPEGTS(t *testing.T) {
	cases := []struct {
		name   string
		frames int
		audio  bool
	}{
		{"video only", 3, false},
		{"video and audio, two keyframes", keyInterval + 3, true},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			packets := muxFrames(t, tc.frames, tc.audio)

			got := make(arrivals, tc.frames)
			f := &tsFrames{onFrame: got.note}
			for i := 0; i+tsPacketSize <= len(packets); i += tsPacketSize {
				f.packet(packets[i:i+tsPacketSize], time.Unix(0, int64(i/tsPacketSize)))
			}

			f.flush()

			// A frame is whole at its last packet: no sooner than its size
			// allows after the frame before.
			prev := int64(-1)
			for i, at := range got {
				if at.IsZero() {
					t.Fatalf("frame %d not found", i)
				}

				size := frameSize
				if i%keyInterval == 0 {
					size = keySize
				}

				if n := at.UnixNano(); n-prev < int64(size/tsPacketSize) {
					t.Fatalf("frame %d of %d bytes whole at packet %d, %d after the one before",
						i, size, n, n-prev)
				}

				prev = at.UnixNano()
			}
		})
	}
}

// muxFrames returns frames pictures, with AAC frames between them when
// audio is set, as MPEG-TS.
func muxFrames(t *testing.T, frames int, audio bool) []byte {
	t.Helper()

	var asc mpeg4audio.AudioSpecificConfig
	if err := asc.Unmarshal(asc44k); err != nil {
		t.Fatal(err)
	}

	video := &mpegts.Track{Codec: &mpegts.CodecH264{}}
	aac := &mpegts.Track{Codec: &mpegts.CodecMPEG4Audio{Config: asc}}

	var buf bytes.Buffer
	w := &mpegts.Writer{W: &buf, Tracks: []*mpegts.Track{video, aac}}
	if err := w.Initialize(); err != nil {
		t.Fatal(err)
	}

	for i := range frames {
		pts := int64(i) * 3600
		au := [][]byte{picture(i)}
		if i%keyInterval == 0 {
			au = [][]byte{sps720, pps720, picture(i)}
		}

		if err := w.WriteH264(video, pts, pts, au); err != nil {
			t.Fatal(err)
		}

		if !audio {
			continue
		}

		if err := w.WriteMPEG4Audio(aac, pts, [][]byte{{0x21, 0x10, 0x04, 0x60}}); err != nil {
			t.Fatal(err)
		}
	}

	return buf.Bytes()
}
