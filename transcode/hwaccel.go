package transcode

import (
	"errors"
	"fmt"
	"strings"

	"github.com/asticode/go-astiav"
)

// The --hwaccel values that are not a backend's name.
const (
	// HWAccelAuto probes the hardware encoders and uses the first that works,
	// else libx264.
	HWAccelAuto = "auto"

	// HWAccelNone uses libx264.
	HWAccelNone = "none"
)

// HWAccelChoices are the values --hwaccel accepts.
var HWAccelChoices = []string{HWAccelAuto, HWAccelNone, "nvenc", "qsv", "vaapi"}

// probeRung is the size of the test picture a probe encodes.
var probeRung = Rung{Name: "probe", Width: 256, Height: 144, FrameRate: 25, Bitrate: 200_000}

// ProbeAttempt is one encoder a probe tried.
type ProbeAttempt struct {
	Encoder string // FFmpeg encoder name, "h264_nvenc"
	Err     error  // why it cannot be used; nil when it encoded the test picture
}

// ProbeResult is what ProbeEncoders found.
type ProbeResult struct {
	// Encoder is the encoder to give Pipeline.Encoder, "h264_nvenc" or
	// "libx264".
	Encoder string

	// Tried lists the hardware encoders tried, in order.
	Tried []ProbeAttempt
}

// Reasons says, for each encoder tried, why it failed or that it worked, in
// one line: "h264_nvenc: …; h264_qsv: …".
func (r ProbeResult) Reasons() string {
	parts := make([]string, 0, len(r.Tried))
	for _, a := range r.Tried {
		reason := "works"
		if a.Err != nil {
			reason = a.Err.Error()
		}

		parts = append(parts, a.Encoder+": "+reason)
	}

	return strings.Join(parts, "; ")
}

// ProbeEncoders picks the video encoder for --hwaccel hwaccel, opening each
// candidate hardware encoder for a 256x144 test picture: "auto" tries
// h264_nvenc, h264_qsv and h264_vaapi in that order and falls back to libx264
// when none works; "none" is libx264; "nvenc", "qsv" or "vaapi" is that
// encoder or an error wrapping ErrHardwareUnavailable that says why not.
func ProbeEncoders(hwaccel string) (ProbeResult, error) {
	return probeWith(hwaccel, probeEncoder)
}

// probeWith is ProbeEncoders with the test of one encoder given.
func probeWith(hwaccel string, try func(name string) error) (ProbeResult, error) {
	quietFFmpeg()

	var res ProbeResult

	switch hwaccel {
	case HWAccelNone, "":
		res.Encoder = DefaultEncoder

		return res, nil
	case HWAccelAuto:
		for _, b := range hwBackends {
			err := try(b.encoder)
			res.Tried = append(res.Tried, ProbeAttempt{Encoder: b.encoder, Err: err})

			if err == nil {
				res.Encoder = b.encoder

				return res, nil
			}
		}

		res.Encoder = DefaultEncoder

		return res, nil
	}

	for _, b := range hwBackends {
		if b.hwaccel != hwaccel {
			continue
		}

		err := try(b.encoder)
		res.Tried = append(res.Tried, ProbeAttempt{Encoder: b.encoder, Err: err})

		if err != nil {
			return res, fmt.Errorf("--hwaccel %s: %w: %s: %w", hwaccel, ErrHardwareUnavailable,
				b.encoder, err)
		}

		res.Encoder = b.encoder

		return res, nil
	}

	return res, fmt.Errorf("--hwaccel %q: want one of %s", hwaccel,
		strings.Join(HWAccelChoices, ", "))
}

// probeEncoder opens the named encoder for the probe rung and encodes one
// black picture through it.
func probeEncoder(name string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()

	factory, err := LookupEncoder(name)
	if err != nil {
		return err
	}

	enc, err := factory(EncoderConfig{Rung: probeRung, Preset: presets[0], Threads: 1,
		KeyInterval: 25})
	if err != nil {
		return err
	}
	defer enc.Close()

	f := astiav.AllocFrame()
	defer f.Free()

	f.SetWidth(probeRung.Width)
	f.SetHeight(probeRung.Height)
	f.SetPixelFormat(enc.PixelFormat())

	if err := f.AllocBuffer(0); err != nil {
		return fmt.Errorf("allocating test picture: %w", err)
	}

	if err := f.ImageFillBlack(); err != nil {
		return fmt.Errorf("filling test picture: %w", err)
	}

	f.SetPts(0)

	pics, err := enc.Encode(f, true)
	if err != nil {
		return err
	}

	rest, err := enc.Encode(nil, false)
	if err != nil {
		return err
	}

	if len(pics)+len(rest) == 0 {
		return errors.New("no picture came out of the test frame")
	}

	return nil
}
