package playbench

import (
	"bytes"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"
)

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

			for i, at := range got {
				if at.IsZero() {
					t.Fatalf("frame %d not found", i)
				}

				if i > 0 && !at.After(got[i-1]) {
					t.Fatalf("frame %d whole at packet %d, not after frame %d", i,
						at.UnixNano(), i-1)
				}
			}

			// Frame 1 spans about frameSize/184 packets: it is whole at its last one.
			if n := got[1].UnixNano() - got[0].UnixNano(); n < frameSize/tsPacketSize {
				t.Errorf("frame 1 whole %d packets after the keyframe, want at least %d", n,
					frameSize/tsPacketSize)
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
