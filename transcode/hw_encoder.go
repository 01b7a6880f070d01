package transcode

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/asticode/go-astiav"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
)

// hwBackend describes one hardware H.264 encoder that --hwaccel can name.
type hwBackend struct {
	hwaccel   string                    // the --hwaccel value, "nvenc"
	encoder   string                    // the FFmpeg encoder, "h264_nvenc"
	format    astiav.PixelFormat        // what Encode takes, in system memory
	device    astiav.HardwareDeviceType // device context to open first, if any
	hwFrames  bool                      // needs frames in device memory
	options   map[string]string         // the backend's option table
	presets   map[string]string         // ladder preset to the backend's
	presetKey string                    // option the preset goes in
}

// hwBackends are the hardware encoders in the order --hwaccel auto tries them.
var hwBackends = []hwBackend{
	{
		hwaccel: "nvenc", encoder: "h264_nvenc", format: astiav.PixelFormatYuv420P,
		options: nvencOptions, presets: nvencPresets, presetKey: "preset",
	},
	{
		hwaccel: "qsv", encoder: "h264_qsv", format: astiav.PixelFormatNv12,
		options: qsvOptions, presets: qsvPresets, presetKey: "preset",
	},
	{
		hwaccel: "vaapi", encoder: "h264_vaapi", format: astiav.PixelFormatNv12,
		device: astiav.HardwareDeviceTypeVAAPI, hwFrames: true,
		options: vaapiOptions, presets: vaapiPresets, presetKey: "quality",
	},
}

// backendByEncoder returns the hardware backend of an FFmpeg encoder name.
func backendByEncoder(name string) (hwBackend, bool) {
	for _, b := range hwBackends {
		if b.encoder == name {
			return b, true
		}
	}

	return hwBackend{}, false
}

// hwEncoder is a VideoEncoder over one of FFmpeg's hardware H.264 encoders
// fed with frames in system memory (the encoder uploads them itself).
type hwEncoder struct {
	backend  hwBackend
	cc       *astiav.CodecContext
	pkt      *astiav.Packet
	sps, pps []byte
}

// openHardware opens backend b for one rung.
func openHardware(b hwBackend, cfg EncoderConfig) (VideoEncoder, error) {
	codec := astiav.FindEncoderByName(b.encoder)
	if codec == nil {
		return nil, fmt.Errorf("encoder %s is not in this FFmpeg build", b.encoder)
	}

	e := &hwEncoder{backend: b}
	if err := e.open(codec, cfg); err != nil {
		e.Close()

		return nil, fmt.Errorf("opening %s for %s: %w", b.encoder, cfg.Rung.Name, err)
	}

	return e, nil
}

func (e *hwEncoder) open(codec *astiav.Codec, cfg EncoderConfig) error {
	b := e.backend

	e.cc = astiav.AllocCodecContext(codec)
	if e.cc == nil {
		return errors.New("allocating codec context failed")
	}

	e.pkt = astiav.AllocPacket()

	// go-astiav v0.16.0 has no way to free a device context but through the
	// codec context holding it, so it goes there at once.
	if b.device != astiav.HardwareDeviceTypeNone {
		hdc, err := astiav.CreateHardwareDeviceContext(b.device, "", nil)
		if err != nil {
			return fmt.Errorf("creating %s device: %w", b.device, err)
		}

		e.cc.SetHardwareDeviceContext(hdc)
	}

	if b.hwFrames {
		return ErrHardwareFrames
	}

	r := cfg.Rung
	e.cc.SetWidth(r.Width)
	e.cc.SetHeight(r.Height)
	e.cc.SetPixelFormat(b.format)
	e.cc.SetSampleAspectRatio(astiav.NewRational(1, 1))
	e.cc.SetTimeBase(videoTimeBase)
	e.cc.SetFramerate(rational(r.FrameRate))
	e.cc.SetBitRate(int64(r.Bitrate))
	e.cc.SetGopSize(max(cfg.KeyInterval, 1))
	e.cc.SetFlags(e.cc.Flags().Add(astiav.CodecContextFlagGlobalHeader))

	opts := astiav.NewDictionary()
	defer opts.Free()

	if err := setOptions(opts, hardwareOptions(b, cfg)); err != nil {
		return err
	}

	if err := e.cc.Open(codec, opts); err != nil {
		return err
	}

	var err error
	e.sps, e.pps, err = parameterSets(e.cc.ExtraData())

	return err
}

// hardwareOptions is b's option table with the rung's rate and the preset.
func hardwareOptions(b hwBackend, cfg EncoderConfig) map[string]string {
	opts := map[string]string{
		"maxrate": strconv.Itoa(cfg.Rung.Bitrate),
		"bufsize": strconv.Itoa(cfg.Rung.Bitrate * vbvSeconds),
	}

	for k, v := range b.options {
		opts[k] = v
	}

	if p, ok := b.presets[cfg.Preset]; ok {
		opts[b.presetKey] = p
	}

	return opts
}

// setOptions puts every option into d.
func setOptions(d *astiav.Dictionary, opts map[string]string) error {
	for k, v := range opts {
		if err := d.Set(k, v, astiav.NewDictionaryFlags()); err != nil {
			return fmt.Errorf("setting %s=%s: %w", k, v, err)
		}
	}

	return nil
}

// parameterSets reads the SPS and PPS out of Annex-B extradata.
func parameterSets(extradata []byte) (sps, pps []byte, err error) {
	var sets h264.AnnexB
	if err := sets.Unmarshal(extradata); err != nil {
		return nil, nil, fmt.Errorf("parsing extradata: %w", err)
	}

	for _, n := range sets {
		switch h264.NALUType(n[0] & 0x1f) {
		case h264.NALUTypeSPS:
			sps = n
		case h264.NALUTypePPS:
			pps = n
		}
	}

	if sps == nil || pps == nil {
		return nil, nil, errors.New("extradata lacks SPS or PPS")
	}

	return sps, pps, nil
}

// PixelFormat implements VideoEncoder.
func (e *hwEncoder) PixelFormat() astiav.PixelFormat {
	return e.backend.format
}

// ParameterSets implements VideoEncoder.
func (e *hwEncoder) ParameterSets() (sps, pps []byte) {
	return e.sps, e.pps
}

// Encode implements VideoEncoder.
func (e *hwEncoder) Encode(f *astiav.Frame, key bool) ([]Picture, error) {
	pics, err := encodePictures(e.cc, e.pkt, f, key)
	if err != nil {
		err = fmt.Errorf("%s: %w", e.backend.encoder, err)
	}

	return pics, err
}

// Close implements VideoEncoder.
func (e *hwEncoder) Close() {
	if e.pkt != nil {
		e.pkt.Free()
	}

	if e.cc != nil {
		e.cc.Free()
	}
}
