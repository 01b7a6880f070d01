package transcode

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/asticode/go-astiav"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/onair/onair/ingest/stream"
	"github.com/onair/onair/internal/samples"
)

// sampleClip is the shared 720p24 clip the pipeline tests read.
var sampleClip = samples.Path("bbb-720p24-10s.mp4")

// sourceClip returns the sample clip, or a 720p24 testsrc2+sine clip made
// with ffmpeg when the shared media folder is missing.
func sourceClip(t *testing.T) string {
	t.Helper()

	if _, err := os.Stat(sampleClip); err == nil {
		return sampleClip
	}

	path := filepath.Join(t.TempDir(), "testsrc.mp4")
	cmd := exec.Command("ffmpeg", "-nostdin", "-loglevel", "error",
		"-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=24:duration=10",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=10",
		"-c:v", "libx264", "-preset", "ultrafast", "-g", "48", "-pix_fmt", "yuv420p",
		"-c:a", "aac", "-shortest", path)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("making test clip: %v\n%s", err, out)
	}

	return path
}

// demux reads an MP4 file into source tracks and units, as an ingest server
// would hand them over, with timestamps shifted by offset.
func demux(t *testing.T, path string, offset time.Duration) ([]*stream.Track, []*stream.Unit) {
	t.Helper()

	fc := astiav.AllocFormatContext()
	defer fc.Free()

	if err := fc.OpenInput(path, nil, nil); err != nil {
		t.Fatalf("opening %s: %v", path, err)
	}
	defer fc.CloseInput()

	if err := fc.FindStreamInfo(nil); err != nil {
		t.Fatal(err)
	}

	tracks := map[int]*stream.Track{}
	var list []*stream.Track

	for _, s := range fc.Streams() {
		tr := demuxTrack(t, fc, s, len(list)+1)
		if tr != nil {
			tracks[s.Index()] = tr
			list = append(list, tr)
		}
	}

	pkt := astiav.AllocPacket()
	defer pkt.Free()

	var units []*stream.Unit
	for {
		err := fc.ReadFrame(pkt)
		if errors.Is(err, astiav.ErrEof) {
			break
		}

		if err != nil {
			t.Fatal(err)
		}

		s := fc.Streams()[pkt.StreamIndex()]
		if tr := tracks[pkt.StreamIndex()]; tr != nil {
			units = append(units, demuxUnit(t, tr, pkt, s.TimeBase(), offset))
		}

		pkt.Unref()
	}

	return list, units
}

func demuxTrack(t *testing.T, fc *astiav.FormatContext, s *astiav.Stream, id int) *stream.Track {
	cp := s.CodecParameters()
	switch cp.CodecID() {
	case astiav.CodecIDH264:
		sps, pps := avccParameterSets(t, cp.ExtraData())

		return &stream.Track{
			ID: id, Codec: stream.CodecH264, SPS: sps, PPS: pps,
			Width: cp.Width(), Height: cp.Height(),
			FrameRate: fc.GuessFrameRate(s, nil).Float64(),
		}
	case astiav.CodecIDAac:
		return &stream.Track{
			ID: id, Codec: stream.CodecAAC, AudioConfig: cp.ExtraData(),
			SampleRate: cp.SampleRate(), Channels: cp.Channels(),
		}
	}

	return nil
}

func demuxUnit(t *testing.T, tr *stream.Track, pkt *astiav.Packet, tb astiav.Rational,
	offset time.Duration,
) *stream.Unit {
	ns := astiav.NewRational(1, int(time.Second))
	u := &stream.Unit{
		Track: tr,
		PTS:   offset + time.Duration(astiav.RescaleQ(pkt.Pts(), tb, ns)),
		DTS:   offset + time.Duration(astiav.RescaleQ(pkt.Dts(), tb, ns)),
		Key:   pkt.Flags().Has(astiav.PacketFlagKey) || !tr.IsVideo(),
	}

	if !tr.IsVideo() {
		u.Payload = pkt.Data()

		return u
	}

	var au h264.AVCC
	if err := au.Unmarshal(pkt.Data()); err != nil {
		t.Fatalf("splitting AVCC packet: %v", err)
	}

	u.NALUs = au

	return u
}

// avccParameterSets reads the SPS and PPS of an AVCDecoderConfigurationRecord
// (ISO/IEC 14496-15 5.3.3.1).
func avccParameterSets(t *testing.T, b []byte) (sps, pps []byte) {
	t.Helper()

	if len(b) < 8 {
		t.Fatalf("avcC of %d bytes", len(b))
	}

	pos := 6 // after numOfSequenceParameterSets
	next := func() []byte {
		n := int(b[pos])<<8 | int(b[pos+1])
		v := b[pos+2 : pos+2+n]
		pos += 2 + n

		return v
	}

	sps = next() // the first of b[5]&0x1f, always one in practice
	pos++        // numOfPictureParameterSets
	pps = next()

	return sps, pps
}
