package transcode

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/asticode/go-astiav"
	"github.com/onair/onair/ingest/stream"
)

// Audio output settings: AAC-LC, 48 kHz stereo, 128 kb/s.
const (
	audioRate    = 48000
	audioBitrate = 128000

	// aacFrameSamples is the samples of one AAC-LC frame (ISO/IEC 14496-3
	// 4.5.1.1, frameLengthFlag 0).
	aacFrameSamples = 1024
)

// audioFilter resamples and regroups decoded audio for the AAC encoder:
// libavfilter's aresample is swresample, which go-astiav v0.16.0 does not
// wrap on its own.
var audioFilter = "aresample=" + strconv.Itoa(audioRate) +
	",aformat=sample_fmts=fltp:channel_layouts=stereo" +
	",asetnsamples=n=" + strconv.Itoa(aacFrameSamples) + ":p=0"

// audioTranscoder decodes a source AAC track, resamples it and encodes it
// again as the output audio track.
type audioTranscoder struct {
	src     *stream.Track
	dec     *astiav.CodecContext
	enc     *astiav.CodecContext
	pkt     *astiav.Packet
	frame   *astiav.Frame
	outPkt  *astiav.Packet
	graph   *astiav.FilterGraph
	buffer  *astiav.FilterContext
	sink    *astiav.FilterContext
	sinkTB  astiav.Rational
	graphOK bool
	nextPTS int64 // PTS the next resampled frame should have
	hasNext bool
	config  []byte
}

// newAudioTranscoder opens the decoder and the encoder of src.
func newAudioTranscoder(src *stream.Track) (*audioTranscoder, error) {
	a := &audioTranscoder{
		src:    src,
		pkt:    astiav.AllocPacket(),
		outPkt: astiav.AllocPacket(),
		frame:  astiav.AllocFrame(),
	}

	if err := a.openDecoder(); err != nil {
		a.Close()

		return nil, err
	}

	if err := a.openEncoder(); err != nil {
		a.Close()

		return nil, err
	}

	return a, nil
}

func (a *audioTranscoder) openDecoder() error {
	codec := astiav.FindDecoder(astiav.CodecIDAac)
	if codec == nil {
		return errors.New("aac decoder is not in this FFmpeg build")
	}

	if a.dec = astiav.AllocCodecContext(codec); a.dec == nil {
		return errors.New("allocating aac decoder failed")
	}

	if err := a.dec.SetExtraData(a.src.AudioConfig); err != nil {
		return fmt.Errorf("setting aac decoder config: %w", err)
	}

	a.dec.SetSampleRate(a.src.SampleRate)
	a.dec.SetTimeBase(astiav.NewRational(1, max(a.src.SampleRate, 1)))

	if err := a.dec.Open(codec, nil); err != nil {
		return fmt.Errorf("opening aac decoder for config %x: %w", a.src.AudioConfig, err)
	}

	return nil
}

func (a *audioTranscoder) openEncoder() error {
	codec := astiav.FindEncoderByName("aac")
	if codec == nil {
		return errors.New("aac encoder is not in this FFmpeg build")
	}

	if a.enc = astiav.AllocCodecContext(codec); a.enc == nil {
		return errors.New("allocating aac encoder failed")
	}

	a.enc.SetSampleRate(audioRate)
	a.enc.SetSampleFormat(astiav.SampleFormatFltp)
	a.enc.SetChannelLayout(astiav.ChannelLayoutStereo)
	a.enc.SetChannels(2)
	a.enc.SetBitRate(audioBitrate)
	a.enc.SetProfile(astiav.ProfileAacLow)
	a.enc.SetTimeBase(astiav.NewRational(1, audioRate))
	a.enc.SetFlags(a.enc.Flags().Add(astiav.CodecContextFlagGlobalHeader))

	if err := a.enc.Open(codec, nil); err != nil {
		return fmt.Errorf("opening aac encoder: %w", err)
	}

	a.config = a.enc.ExtraData()
	if len(a.config) < 2 {
		return errors.New("aac encoder gave no AudioSpecificConfig")
	}

	return nil
}

// Track returns the output audio track with the given ID.
func (a *audioTranscoder) Track(id int) *stream.Track {
	return &stream.Track{
		ID:          id,
		Codec:       stream.CodecAAC,
		Name:        "audio",
		AudioConfig: a.config,
		SampleRate:  audioRate,
		Channels:    2,
		Bitrate:     audioBitrate,
	}
}

// Transcode decodes one source frame with PTS in source samples and returns
// the encoded frames, with timestamps rebased so that the encoder's priming
// frame sits at 0. A nil unit flushes the whole chain.
func (a *audioTranscoder) Transcode(u *stream.Unit, pts int64, out *stream.Track) (
	[]*stream.Unit, error,
) {
	var units []*stream.Unit
	collect := func(f *astiav.Frame) error {
		return a.filter(f, func(ff *astiav.Frame) error {
			us, err := a.encode(ff, out)
			units = append(units, us...)

			return err
		})
	}

	err := a.decode(u, pts, collect)
	if u == nil && err == nil {
		err = a.finish(collect, out, &units)
	}

	return units, err
}

func (a *audioTranscoder) finish(collect func(*astiav.Frame) error, out *stream.Track,
	units *[]*stream.Unit,
) error {
	if a.graphOK {
		if err := collect(nil); err != nil {
			return err
		}
	}

	us, err := a.encode(nil, out)
	*units = append(*units, us...)

	return err
}

func (a *audioTranscoder) decode(u *stream.Unit, pts int64, each func(*astiav.Frame) error) error {
	var sendErr error
	if u == nil {
		sendErr = a.dec.SendPacket(nil)
	} else {
		sendErr = a.send(u, pts)
	}

	for {
		err := a.dec.ReceiveFrame(a.frame)
		if errors.Is(err, astiav.ErrEagain) || errors.Is(err, astiav.ErrEof) {
			break
		}

		if err != nil {
			return fmt.Errorf("receiving decoded audio: %w", err)
		}

		err = each(a.frame)
		a.frame.Unref()

		if err != nil {
			return err
		}
	}

	return sendErr
}

func (a *audioTranscoder) send(u *stream.Unit, pts int64) error {
	buf := append(append([]byte(nil), u.Payload...), make([]byte, inputPadding)...)
	if err := a.pkt.FromData(buf); err != nil {
		return fmt.Errorf("filling audio packet: %w", err)
	}
	defer a.pkt.Unref()

	a.pkt.SetSize(len(u.Payload))
	a.pkt.SetPts(pts)
	a.pkt.SetDts(pts)

	if err := a.dec.SendPacket(a.pkt); err != nil {
		return fmt.Errorf("decoding audio at %v: %w", u.PTS, err)
	}

	return nil
}

// filter passes a decoded frame (nil at the end) through the resampler.
func (a *audioTranscoder) filter(f *astiav.Frame, each func(*astiav.Frame) error) error {
	if !a.graphOK {
		if err := a.openGraph(f); err != nil {
			return err
		}
	}

	flags := astiav.NewBuffersrcFlags(astiav.BuffersrcFlagKeepRef)
	if err := a.buffer.BuffersrcAddFrame(f, flags); err != nil {
		return fmt.Errorf("resampling audio: %w", err)
	}

	out := astiav.AllocFrame()
	defer out.Free()

	for {
		err := a.sink.BuffersinkGetFrame(out, astiav.NewBuffersinkFlags())
		if errors.Is(err, astiav.ErrEagain) || errors.Is(err, astiav.ErrEof) {
			return nil
		}

		if err != nil {
			return fmt.Errorf("reading resampled audio: %w", err)
		}

		out.SetPts(a.samplePTS(astiav.RescaleQ(out.Pts(), a.sinkTB, a.enc.TimeBase()), out.NbSamples()))
		err = each(out)
		out.Unref()

		if err != nil {
			return err
		}
	}
}

// samplePTS snaps the PTS of a resampled frame to the end of the previous
// one when they are less than half a frame apart, so that rounding in the
// source time base does not jitter the output; real gaps are kept.
func (a *audioTranscoder) samplePTS(pts int64, samples int) int64 {
	if a.hasNext && pts-a.nextPTS < aacFrameSamples/2 && a.nextPTS-pts < aacFrameSamples/2 {
		pts = a.nextPTS
	}

	a.nextPTS, a.hasNext = pts+int64(samples), true

	return pts
}

// openGraph builds the resampler for the format of the first decoded frame.
func (a *audioTranscoder) openGraph(f *astiav.Frame) error {
	if a.graph = astiav.AllocFilterGraph(); a.graph == nil {
		return errors.New("allocating audio filter graph failed")
	}

	args := astiav.FilterArgs{
		"channel_layout": f.ChannelLayout().String(),
		"sample_fmt":     f.SampleFormat().Name(),
		"sample_rate":    strconv.Itoa(f.SampleRate()),
		"time_base":      a.dec.TimeBase().String(),
	}

	var err error
	abuffer, abuffersink := astiav.FindFilterByName("abuffer"), astiav.FindFilterByName("abuffersink")

	if a.buffer, err = a.graph.NewFilterContext(abuffer, "in", args); err != nil {
		return fmt.Errorf("creating audio source %s: %w", args, err)
	}

	if a.sink, err = a.graph.NewFilterContext(abuffersink, "out", nil); err != nil {
		return fmt.Errorf("creating audio sink: %w", err)
	}

	outputs, inputs := astiav.AllocFilterInOut(), astiav.AllocFilterInOut()
	defer outputs.Free()
	defer inputs.Free()

	outputs.SetName("in")
	outputs.SetFilterContext(a.buffer)
	outputs.SetPadIdx(0)
	outputs.SetNext(nil)
	inputs.SetName("out")
	inputs.SetFilterContext(a.sink)
	inputs.SetPadIdx(0)
	inputs.SetNext(nil)

	if err := a.graph.Parse(audioFilter, inputs, outputs); err != nil {
		return fmt.Errorf("parsing audio filter %q: %w", audioFilter, err)
	}

	if err := a.graph.Configure(); err != nil {
		return fmt.Errorf("configuring audio filter: %w", err)
	}

	a.sinkTB = a.sink.Inputs()[0].TimeBase()
	a.graphOK = true

	return nil
}

// encode encodes one resampled frame (nil flushes) into output units.
func (a *audioTranscoder) encode(f *astiav.Frame, out *stream.Track) ([]*stream.Unit, error) {
	if err := a.enc.SendFrame(f); err != nil {
		return nil, fmt.Errorf("encoding audio: %w", err)
	}

	var units []*stream.Unit
	for {
		err := a.enc.ReceivePacket(a.outPkt)
		if errors.Is(err, astiav.ErrEagain) || errors.Is(err, astiav.ErrEof) {
			return units, nil
		}

		if err != nil {
			return units, fmt.Errorf("receiving encoded audio: %w", err)
		}

		ts := samplesToDuration(a.outPkt.Pts()+aacFrameSamples, audioRate)
		units = append(units, &stream.Unit{
			Track: out, PTS: ts, DTS: ts, Key: true, Payload: a.outPkt.Data(),
		})
		a.outPkt.Unref()
	}
}

// Close frees the chain.
func (a *audioTranscoder) Close() {
	if a.graph != nil {
		a.graph.Free()
	}

	if a.enc != nil {
		a.enc.Free()
	}

	if a.dec != nil {
		a.dec.Free()
	}

	a.frame.Free()
	a.outPkt.Free()
	a.pkt.Free()
}

// samplesToDuration converts a sample count at rate to a duration.
func samplesToDuration(n int64, rate int) time.Duration {
	return time.Duration(n * int64(time.Second) / int64(rate))
}
