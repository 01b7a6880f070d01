package transcode

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/asticode/go-astiav"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/onair/onair/ingest/stream"
)

// ReadFile demuxes the media file at path (MP4, MPEG-TS, FLV: what FFmpeg
// reads) into source tracks and units, as an ingest server hands them over.
// start is called once with the H.264 and AAC tracks and returns the function
// that receives every unit, in file order; other streams are skipped. It
// returns nil at the end of the file, ctx's error once ctx is done, and the
// first read error otherwise. It lets tools outside this package (the bench)
// feed a Pipeline without cgo of their own.
func ReadFile(ctx context.Context, path string,
	start func(tracks []*stream.Track) (func(*stream.Unit), error),
) error {
	fc := astiav.AllocFormatContext()
	if fc == nil {
		return errors.New("allocating format context failed")
	}
	defer fc.Free()

	if err := fc.OpenInput(path, nil, nil); err != nil {
		return fmt.Errorf("opening %s: %w", path, err)
	}
	defer fc.CloseInput()

	if err := fc.FindStreamInfo(nil); err != nil {
		return fmt.Errorf("reading stream info of %s: %w", path, err)
	}

	tracks := map[int]*fileTrack{}
	var list []*stream.Track

	for _, s := range fc.Streams() {
		ft, err := newFileTrack(fc, s, len(list)+1)
		if err != nil {
			return fmt.Errorf("%s stream %d: %w", path, s.Index(), err)
		}

		if ft != nil {
			tracks[s.Index()] = ft
			list = append(list, ft.track)
		}
	}

	if len(list) == 0 {
		return fmt.Errorf("%s has no H.264 or AAC stream", path)
	}

	write, err := start(list)
	if err != nil {
		return err
	}

	return readUnits(ctx, fc, tracks, write)
}

// readUnits reads packets until the end of the file and writes the units of
// the known tracks.
func readUnits(ctx context.Context, fc *astiav.FormatContext, tracks map[int]*fileTrack,
	write func(*stream.Unit),
) error {
	pkt := astiav.AllocPacket()
	defer pkt.Free()

	for {
		if err := ctx.Err(); err != nil {
			return err
		}

		err := fc.ReadFrame(pkt)
		if errors.Is(err, astiav.ErrEof) {
			return nil
		}

		if err != nil {
			return fmt.Errorf("reading packet: %w", err)
		}

		ft := tracks[pkt.StreamIndex()]

		var u *stream.Unit
		if ft != nil {
			u, err = ft.unit(pkt)
		}
		pkt.Unref()

		if err != nil {
			return err
		}

		if u != nil {
			write(u)
		}
	}
}

// fileTrack is one stream of a file being read.
type fileTrack struct {
	track  *stream.Track
	tb     astiav.Rational
	annexB bool // H.264 packets carry start codes instead of length prefixes
}

// newFileTrack describes stream s, or returns nil for a codec onair does not
// transcode.
func newFileTrack(fc *astiav.FormatContext, s *astiav.Stream, id int) (*fileTrack, error) {
	cp := s.CodecParameters()
	ft := &fileTrack{tb: s.TimeBase()}

	switch cp.CodecID() {
	case astiav.CodecIDH264:
		sps, pps, annexB, err := h264ParameterSets(cp.ExtraData())
		if err != nil {
			return nil, err
		}

		ft.annexB = annexB
		ft.track = &stream.Track{
			ID: id, Codec: stream.CodecH264, SPS: sps, PPS: pps,
			Width: cp.Width(), Height: cp.Height(),
			FrameRate: fc.GuessFrameRate(s, nil).Float64(),
		}
	case astiav.CodecIDAac:
		ft.track = &stream.Track{
			ID: id, Codec: stream.CodecAAC, AudioConfig: cp.ExtraData(),
			SampleRate: cp.SampleRate(), Channels: cp.Channels(),
		}
	default:
		return nil, nil
	}

	return ft, nil
}

// unit turns a packet into a unit; it returns nil for a packet without
// timestamps.
func (ft *fileTrack) unit(pkt *astiav.Packet) (*stream.Unit, error) {
	pts, dts := pkt.Pts(), pkt.Dts()
	switch {
	case pts == astiav.NoPtsValue && dts == astiav.NoPtsValue:
		return nil, nil
	case pts == astiav.NoPtsValue:
		pts = dts
	case dts == astiav.NoPtsValue:
		dts = pts
	}

	ns := astiav.NewRational(1, int(time.Second))
	u := &stream.Unit{
		Track: ft.track,
		PTS:   time.Duration(astiav.RescaleQ(pts, ft.tb, ns)),
		DTS:   time.Duration(astiav.RescaleQ(dts, ft.tb, ns)),
		Key:   pkt.Flags().Has(astiav.PacketFlagKey) || !ft.track.IsVideo(),
	}

	data := pkt.Data() // a Go copy, still valid after Unref
	if !ft.track.IsVideo() {
		u.Payload = data

		return u, nil
	}

	if ft.annexB {
		var au h264.AnnexB
		if err := au.Unmarshal(data); err != nil {
			return nil, fmt.Errorf("splitting Annex-B picture at %v: %w", u.PTS, err)
		}

		u.NALUs = au

		return u, nil
	}

	var au h264.AVCC
	if err := au.Unmarshal(data); err != nil {
		return nil, fmt.Errorf("splitting AVCC picture at %v: %w", u.PTS, err)
	}

	u.NALUs = au

	return u, nil
}

// h264ParameterSets reads the first SPS and PPS of H.264 extradata: an
// AVCDecoderConfigurationRecord (ISO/IEC 14496-15 5.3.3.1, first byte 1) or
// Annex-B NAL units (MPEG-TS). annexB reports the latter.
func h264ParameterSets(extra []byte) (sps, pps []byte, annexB bool, err error) {
	if len(extra) == 0 {
		// Parameter sets in band (MPEG-TS): the decoder finds them there.
		return nil, nil, true, nil
	}

	if extra[0] != 1 {
		var nalus h264.AnnexB
		if err := nalus.Unmarshal(extra); err != nil {
			return nil, nil, false, fmt.Errorf("parsing Annex-B extradata: %w", err)
		}

		for _, n := range nalus {
			switch {
			case len(n) == 0:
			case h264.NALUType(n[0]&0x1f) == h264.NALUTypeSPS && sps == nil:
				sps = n
			case h264.NALUType(n[0]&0x1f) == h264.NALUTypePPS && pps == nil:
				pps = n
			}
		}

		return sps, pps, true, nil
	}

	sps, pps, err = avcConfigSets(extra)

	return sps, pps, false, err
}

// avcConfigSets reads the first SPS and PPS of an AVCDecoderConfigurationRecord.
func avcConfigSets(b []byte) (sps, pps []byte, err error) {
	// configurationVersion, profile, compatibility, level, lengthSizeMinusOne.
	pos := 5

	sets := func() ([]byte, error) {
		if pos >= len(b) {
			return nil, fmt.Errorf("avcC of %d bytes ends before a set count", len(b))
		}

		// numOfSequenceParameterSets follows 3 reserved bits; the PPS count
		// takes the whole byte.
		count := int(b[pos])
		if pos == 5 {
			count &= 0x1f
		}
		pos++

		var first []byte
		for range count {
			if pos+2 > len(b) {
				return nil, fmt.Errorf("avcC of %d bytes ends in a set length", len(b))
			}

			n := int(b[pos])<<8 | int(b[pos+1])
			if pos+2+n > len(b) {
				return nil, fmt.Errorf("avcC set of %d bytes past the end (%d bytes)", n, len(b))
			}

			if first == nil {
				first = b[pos+2 : pos+2+n]
			}

			pos += 2 + n
		}

		return first, nil
	}

	if sps, err = sets(); err != nil {
		return nil, nil, err
	}

	if pps, err = sets(); err != nil {
		return nil, nil, err
	}

	if sps == nil || pps == nil {
		return nil, nil, errors.New("avcC lacks an SPS or a PPS")
	}

	return sps, pps, nil
}
