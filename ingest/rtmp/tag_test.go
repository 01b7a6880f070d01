package rtmp

import (
	"testing"
	"time"

	"github.com/onair/onair/ingest/stream"
)

// tagCases seed both the table test and the fuzz target.
var tagCases = []struct {
	name  string
	video bool
	buf   []byte
	codec stream.Codec
	kind  tagKind
	cts   int32
	fails bool
}{
	{name: "avc header", video: true, buf: avcHeader(sps720, pps720).payload,
		codec: stream.CodecH264, kind: tagHeader},
	{name: "avc keyframe", video: true, buf: avcFrame(0, true, 80, 10).payload,
		codec: stream.CodecH264, kind: tagFrame, cts: 80},
	{name: "avc negative cts", video: true, buf: []byte{0x27, 1, 0xff, 0xff, 0xf6, 0, 0, 0, 1, 0x41},
		codec: stream.CodecH264, kind: tagFrame, cts: -10},
	{name: "avc end of sequence", video: true, buf: []byte{0x17, 2, 0, 0, 0},
		codec: stream.CodecH264, kind: tagOther},
	{name: "avc cut", video: true, buf: []byte{0x17, 1, 0}, fails: true},
	{name: "avc bad packet type", video: true, buf: []byte{0x17, 7, 0, 0, 0}, fails: true},
	{name: "legacy hevc", video: true, buf: []byte{0x1c, 0, 0, 0, 0, 1},
		codec: stream.CodecH265, kind: tagHeader},
	{name: "enhanced hevc", video: true, buf: []byte{0x90, 'h', 'v', 'c', '1', 1},
		codec: stream.CodecH265, kind: tagHeader},
	{name: "enhanced hevc frame x", video: true, buf: []byte{0x93, 'h', 'v', 'c', '1', 0, 0, 0, 1, 2},
		codec: stream.CodecH265, kind: tagFrame},
	{name: "enhanced avc frame", video: true,
		buf:   []byte{0x91, 'a', 'v', 'c', '1', 0, 0, 40, 0, 0, 0, 1, 0x65},
		codec: stream.CodecH264, kind: tagFrame, cts: 40},
	{name: "enhanced av1", video: true, buf: []byte{0x90, 'a', 'v', '0', '1'},
		codec: stream.CodecOtherVideo, kind: tagHeader},
	{name: "sorenson", video: true, buf: []byte{0x22, 1, 2}, codec: stream.CodecOtherVideo,
		kind: tagHeader},
	{name: "empty video", video: true, buf: nil, fails: true},
	{name: "aac header", buf: aacHeader(asc48k1).payload, codec: stream.CodecAAC, kind: tagHeader},
	{name: "aac frame", buf: aacFrame(0).payload, codec: stream.CodecAAC, kind: tagFrame},
	{name: "aac cut", buf: []byte{0xaf}, fails: true},
	{name: "mp3", buf: []byte{0x2f, 0xff, 0xfb}, codec: stream.CodecMP3, kind: tagHeader},
	{name: "enhanced opus", buf: []byte{0x90, 'O', 'p', 'u', 's', 1},
		codec: stream.CodecOpus, kind: tagHeader},
	{name: "speex", buf: []byte{0xb2, 1}, codec: stream.CodecOtherAudio, kind: tagHeader},
	{name: "empty audio", buf: []byte{}, fails: true},
}

func TestParseTag(t *testing.T) {
	for _, tc := range tagCases {
		t.Run(tc.name, func(t *testing.T) {
			var (
				codec stream.Codec
				kind  tagKind
				cts   int32
				err   error
			)

			if tc.video {
				var v videoTag
				v, err = parseVideoTag(tc.buf)
				codec, kind, cts = v.Codec, v.Kind, v.CTS
			} else {
				var a audioTag
				a, err = parseAudioTag(tc.buf)
				codec, kind = a.Codec, a.Kind
			}

			if tc.fails {
				if err == nil {
					t.Fatalf("parsed, want an error")
				}

				return
			}

			if err != nil {
				t.Fatal(err)
			}

			if codec != tc.codec || kind != tc.kind || cts != tc.cts {
				t.Errorf("got %s kind %d cts %d, want %s kind %d cts %d",
					codec, kind, cts, tc.codec, tc.kind, tc.cts)
			}
		})
	}
}

func TestTrackFromHeaders(t *testing.T) {
	cases := []struct {
		name  string
		video bool
		buf   []byte
		want  wantTrack
	}{
		{name: "avc 720p", video: true, buf: avcHeader(sps720, pps720).payload,
			want: wantTrack{codec: stream.CodecH264, width: 1280, height: 720}},
		{name: "avc 360p", video: true, buf: avcHeader(sps360, pps360).payload,
			want: wantTrack{codec: stream.CodecH264, width: 640, height: 360}},
		// The FLV flags (0xaf) claim 44.1 kHz stereo; the config says 48 kHz mono.
		{name: "aac 48k mono", buf: aacHeader(asc48k1).payload,
			want: wantTrack{codec: stream.CodecAAC, rate: 48000, chans: 1}},
		{name: "aac 44k stereo", buf: aacHeader(asc44k2).payload,
			want: wantTrack{codec: stream.CodecAAC, rate: 44100, chans: 2}},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var tr *stream.Track
			if tc.video {
				tag, err := parseVideoTag(tc.buf)
				if err != nil {
					t.Fatal(err)
				}

				tr, _, err = newVideoTrack(tag)
				if err != nil {
					t.Fatal(err)
				}
			} else {
				tag, err := parseAudioTag(tc.buf)
				if err != nil {
					t.Fatal(err)
				}

				tr, err = newAudioTrack(tag)
				if err != nil {
					t.Fatal(err)
				}
			}

			tr.ID = 1
			checkTracks(t, []*stream.Track{tr}, []wantTrack{tc.want})
		})
	}
}

func TestTimeline(t *testing.T) {
	ms := time.Millisecond
	cases := []struct {
		name    string
		in      []uint32 // alternating video, audio
		want    []time.Duration
		rebased bool
	}{
		{name: "steady", in: []uint32{0, 0, 40, 40}, want: []time.Duration{0, 0, 40 * ms, 40 * ms}},
		{name: "jitter is clamped", in: []uint32{100, 90, 140, 80},
			want: []time.Duration{100 * ms, 90 * ms, 140 * ms, 90 * ms}},
		{name: "backwards jump", in: []uint32{5000, 5000, 0, 0, 40},
			want:    []time.Duration{5000 * ms, 5000 * ms, 5020 * ms, 5020 * ms, 5060 * ms},
			rebased: true},
		{name: "forward jump", in: []uint32{0, 0, 60000, 60000},
			want: []time.Duration{0, 0, 20 * ms, 20 * ms}, rebased: true},
		{name: "32-bit wrap", in: []uint32{0xffffffff - 10, 0xffffffff - 10, 30, 30},
			want: []time.Duration{(0xffffffff - 10) * ms, (0xffffffff - 10) * ms,
				(0xffffffff + 10) * ms, (0xffffffff + 10) * ms}, rebased: true},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var tl timeline
			rebased := false

			for i, in := range tc.in {
				got, r := tl.dts(in, trackKind(i%2))
				rebased = rebased || r

				if got != tc.want[i] {
					t.Fatalf("timestamp %d (%d ms): got %s, want %s", i, in, got, tc.want[i])
				}
			}

			if rebased != tc.rebased {
				t.Errorf("rebased %v, want %v", rebased, tc.rebased)
			}
		})
	}
}

// FuzzParseTag feeds arbitrary FLV tag bodies through the parsers and the
// track and NALU code that follows them; none may panic.
func FuzzParseTag(f *testing.F) {
	for _, tc := range tagCases {
		f.Add(tc.video, tc.buf)
	}

	f.Fuzz(func(t *testing.T, video bool, buf []byte) {
		if video {
			tag, err := parseVideoTag(buf)
			if err != nil {
				return
			}

			switch tag.Kind {
			case tagHeader:
				_, _, _ = newVideoTrack(tag)

			case tagFrame:
				for _, size := range []int{1, 2, 4} {
					nalus, err := splitNALUs(tag.Data, size)
					if err == nil {
						_ = hasIDR(nalus)
					}
				}
			}

			return
		}

		tag, err := parseAudioTag(buf)
		if err == nil && tag.Kind == tagHeader {
			_, _ = newAudioTrack(tag)
		}

		_, _ = parseMetadata(buf)
	})
}
