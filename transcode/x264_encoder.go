package transcode

import (
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/asticode/go-astiav"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
)

// x264Params pins what the presets would otherwise change in the PPS (CABAC,
// 8x8 transform, weighted prediction), so that every preset yields the same
// parameter sets, and turns off scene-cut keyframes so that only forced
// keyframes (the same pictures in every rung) start a GOP.
const x264Params = "scenecut=0:cabac=1:8x8dct=1:weightp=0:ref=1"

// vbvSeconds is the VBV buffer size, in seconds of the target bitrate.
const vbvSeconds = 1

// x264Encoder is a VideoEncoder over FFmpeg's libx264 wrapper.
type x264Encoder struct {
	cc       *astiav.CodecContext
	pkt      *astiav.Packet
	sps, pps []byte
}

// openX264 opens libx264 for one rung.
func openX264(cfg EncoderConfig) (VideoEncoder, error) {
	return openX264With(cfg, nil)
}

// openX264With opens libx264 with some of its options replaced.
func openX264With(cfg EncoderConfig, replace map[string]string) (VideoEncoder, error) {
	codec := astiav.FindEncoderByName("libx264")
	if codec == nil {
		return nil, errors.New("encoder libx264 is not in this FFmpeg build")
	}

	cc := astiav.AllocCodecContext(codec)
	if cc == nil {
		return nil, errors.New("allocating libx264 context failed")
	}

	e := &x264Encoder{cc: cc, pkt: astiav.AllocPacket()}
	if err := e.open(codec, cfg, replace); err != nil {
		e.Close()

		return nil, fmt.Errorf("opening libx264 for %s preset %s: %w", cfg.Rung.Name, cfg.Preset, err)
	}

	return e, nil
}

func (e *x264Encoder) open(codec *astiav.Codec, cfg EncoderConfig,
	replace map[string]string,
) error {
	r := cfg.Rung
	e.cc.SetWidth(r.Width)
	e.cc.SetHeight(r.Height)
	e.cc.SetPixelFormat(astiav.PixelFormatYuv420P)
	e.cc.SetSampleAspectRatio(astiav.NewRational(1, 1))
	e.cc.SetTimeBase(videoTimeBase)
	e.cc.SetFramerate(rational(r.FrameRate))
	e.cc.SetBitRate(int64(r.Bitrate))
	e.cc.SetGopSize(max(cfg.KeyInterval, 1))
	e.cc.SetThreadCount(max(cfg.Threads, 1))
	// Slice threads add no delay; frame threads would hold one picture each.
	e.cc.SetThreadType(astiav.ThreadTypeSlice)
	e.cc.SetFlags(e.cc.Flags().Add(astiav.CodecContextFlagGlobalHeader))

	opts := astiav.NewDictionary()
	defer opts.Free()

	table := map[string]string{
		"preset":      cfg.Preset,
		"tune":        "zerolatency",
		"profile":     "high",
		"maxrate":     strconv.Itoa(r.Bitrate),
		"bufsize":     strconv.Itoa(r.Bitrate * vbvSeconds),
		"forced-idr":  "1",
		"x264-params": x264Params,
	}
	for k, v := range replace {
		table[k] = v
	}

	if err := setOptions(opts, table); err != nil {
		return err
	}

	if err := e.cc.Open(codec, opts); err != nil {
		return err
	}

	var err error
	e.sps, e.pps, err = parameterSets(e.cc.ExtraData())

	return err
}

// PixelFormat implements VideoEncoder.
func (e *x264Encoder) PixelFormat() astiav.PixelFormat {
	return astiav.PixelFormatYuv420P
}

// ParameterSets implements VideoEncoder.
func (e *x264Encoder) ParameterSets() (sps, pps []byte) {
	return e.sps, e.pps
}

// Encode implements VideoEncoder.
func (e *x264Encoder) Encode(f *astiav.Frame, key bool) ([]Picture, error) {
	return encodePictures(e.cc, e.pkt, f, key)
}

// Close implements VideoEncoder.
func (e *x264Encoder) Close() {
	e.pkt.Free()
	e.cc.Free()
}

// encodePictures sends f to an H.264 encoder, coded as a keyframe when key is
// set (a nil f flushes it), and returns the pictures that came out.
func encodePictures(cc *astiav.CodecContext, pkt *astiav.Packet, f *astiav.Frame,
	key bool,
) ([]Picture, error) {
	if f != nil {
		f.SetPictureType(astiav.PictureTypeNone)
		if key {
			f.SetPictureType(astiav.PictureTypeI)
		}
	}

	if err := cc.SendFrame(f); err != nil {
		return nil, fmt.Errorf("sending frame: %w", err)
	}

	var out []Picture
	for {
		err := cc.ReceivePacket(pkt)
		if errors.Is(err, astiav.ErrEagain) || errors.Is(err, astiav.ErrEof) {
			return out, nil
		}

		if err != nil {
			return out, fmt.Errorf("receiving packet: %w", err)
		}

		p, err := picture(pkt)
		pkt.Unref()

		if err != nil {
			return out, err
		}

		out = append(out, p)
	}
}

// picture turns an Annex-B packet into a Picture.
func picture(pkt *astiav.Packet) (Picture, error) {
	var au h264.AnnexB
	if err := au.Unmarshal(pkt.Data()); err != nil {
		return Picture{}, fmt.Errorf("splitting encoded picture: %w", err)
	}

	p := Picture{PTS: pkt.Pts(), DTS: pkt.Dts(), Key: pkt.Flags().Has(astiav.PacketFlagKey)}
	for _, n := range au {
		if len(n) > 0 && h264.NALUType(n[0]&0x1f) != h264.NALUTypeAccessUnitDelimiter {
			p.NALUs = append(p.NALUs, n)
		}
	}

	return p, nil
}

// rational approximates a frame rate as a fraction, exactly for the NTSC
// rates (30000/1001 and its multiples).
func rational(fps float64) astiav.Rational {
	if fps <= 0 {
		return astiav.NewRational(30, 1)
	}

	if n := fps * 1001 / 1000; math.Abs(n-math.Round(n)) < 1e-3 && math.Round(fps) != fps {
		return astiav.NewRational(int(math.Round(n))*1000, 1001)
	}

	num, den := int(math.Round(fps*1000)), 1000
	for _, p := range []int{2, 5} {
		for num%p == 0 && den%p == 0 {
			num, den = num/p, den/p
		}
	}

	return astiav.NewRational(num, den)
}
