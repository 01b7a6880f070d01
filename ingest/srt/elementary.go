package srt

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/opus"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts/substructs"

	"github.com/onair/onair/ingest/stream"
)

// aacFrameSamples is the number of samples in one AAC frame (ISO/IEC
// 14496-3, 1024 for AAC-LC and the core of HE-AAC).
const aacFrameSamples = 1024

// errEmptyPES is returned for a PES packet without payload.
var errEmptyPES = errors.New("pes packet is empty")

// frame is one unit parsed from a PES packet, with its 90 kHz PTS.
type frame struct {
	pts  int64
	unit *stream.Unit
}

// parse splits a PES payload into units, updating the stream's configuration
// from what it carries (parameter sets, ADTS headers).
func (es *elementary) parse(data []byte, pts int64) ([]frame, error) {
	if len(data) == 0 {
		return nil, errEmptyPES
	}

	switch es.codec {
	case stream.CodecH264, stream.CodecH265:
		u, err := es.picture(data)
		if err != nil {
			return nil, err
		}

		return []frame{{pts: pts, unit: u}}, nil

	case stream.CodecAAC:
		return es.adts(data, pts)

	case stream.CodecOpus:
		return es.opus(data, pts)
	}

	// MPEG audio and unrecognised video: carried only so that the input fails
	// with the codec's name.
	return []frame{{pts: pts, unit: &stream.Unit{Key: true, Payload: data}}}, nil
}

// picture reads an Annex B access unit, dropping access unit delimiters.
func (es *elementary) picture(data []byte) (*stream.Unit, error) {
	var au h264.AnnexB
	if err := au.Unmarshal(data); err != nil {
		return nil, fmt.Errorf("annex b: %w", err)
	}

	u := &stream.Unit{}
	var vps, sps, pps []byte

	for _, n := range au {
		if len(n) == 0 {
			continue
		}

		if es.codec == stream.CodecH264 {
			switch h264.NALUType(n[0] & 0x1f) {
			case h264.NALUTypeAccessUnitDelimiter:
				continue
			case h264.NALUTypeSPS:
				sps = n
			case h264.NALUTypePPS:
				pps = n
			case h264.NALUTypeIDR:
				u.Key = true
			}
		} else {
			switch t := h265.NALUType((n[0] >> 1) & 0x3f); {
			case t == h265.NALUType_AUD_NUT:
				continue
			case t == h265.NALUType_VPS_NUT:
				vps = n
			case t == h265.NALUType_SPS_NUT:
				sps = n
			case t == h265.NALUType_PPS_NUT:
				pps = n
			case t >= h265.NALUType_BLA_W_LP && t <= h265.NALUType_CRA_NUT:
				u.Key = true
			}
		}

		u.NALUs = append(u.NALUs, n)
	}

	if len(u.NALUs) == 0 {
		return nil, errors.New("access unit has no nalu")
	}

	if sps != nil && pps != nil && (es.codec == stream.CodecH264 || vps != nil) {
		es.setVideoConfig(vps, sps, pps)
	}

	return u, nil
}

// setVideoConfig records parameter sets; a change makes a new configuration.
func (es *elementary) setVideoConfig(vps, sps, pps []byte) {
	c := es.config
	if c != nil && bytes.Equal(c.VPS, vps) && bytes.Equal(c.SPS, sps) && bytes.Equal(c.PPS, pps) {
		return
	}

	t := &stream.Track{
		Codec: es.codec,
		VPS:   bytes.Clone(vps),
		SPS:   bytes.Clone(sps),
		PPS:   bytes.Clone(pps),
	}

	// Parameter sets the parsers cannot read still play; only the
	// dimensions are lost.
	if es.codec == stream.CodecH264 {
		var s h264.SPS
		if err := s.Unmarshal(sps); err == nil {
			t.Width, t.Height, t.FrameRate = s.Width(), s.Height(), s.FPS()
		}
	} else {
		var s h265.SPS
		if err := s.Unmarshal(sps); err == nil {
			t.Width, t.Height, t.FrameRate = s.Width(), s.Height(), s.FPS()
		}
	}

	es.config = t
}

// adts splits ADTS frames (ISO/IEC 14496-3, 1.A.2) into AAC units.
func (es *elementary) adts(data []byte, pts int64) ([]frame, error) {
	var pkts mpeg4audio.ADTSPackets
	if err := pkts.Unmarshal(data); err != nil {
		return nil, fmt.Errorf("adts: %w", err)
	}

	first := pkts[0]
	asc := mpeg4audio.AudioSpecificConfig{
		Type:          first.Type,
		SampleRate:    first.SampleRate,
		ChannelConfig: first.ChannelConfig,
		ChannelCount:  first.ChannelCount,
	}

	cfg, err := asc.Marshal()
	if err != nil {
		return nil, fmt.Errorf("adts: %w", err)
	}

	if es.config == nil || !bytes.Equal(es.config.AudioConfig, cfg) {
		es.config = &stream.Track{
			Codec:       stream.CodecAAC,
			AudioConfig: cfg,
			SampleRate:  first.SampleRate,
			Channels:    aacChannels(first.ChannelConfig),
		}
	}

	frames := make([]frame, 0, len(pkts))
	for i, p := range pkts {
		step := int64(i) * aacFrameSamples * tsClockRate / int64(first.SampleRate)
		frames = append(frames, frame{pts: pts + step,
			unit: &stream.Unit{Key: true, Payload: p.AU}})
	}

	return frames, nil
}

// aacChannels maps a channelConfiguration (ISO/IEC 14496-3, 1.6.3.5) to a
// channel count; 0 means unknown.
func aacChannels(config uint8) int {
	switch {
	case config >= 1 && config <= 6:
		return int(config)

	case config == 7:
		return 8
	}

	return 0
}

// opus splits Opus access units, each behind its control header (the ETSI
// "Opus in MPEG-TS" specification, TS 0.1.3 draft), into units of one packet.
func (es *elementary) opus(data []byte, pts int64) ([]frame, error) {
	var frames []frame
	step := int64(0)

	for pos := 0; pos < len(data); {
		var au substructs.OpusAccessUnit

		n, err := au.Unmarshal(data[pos:])
		if err != nil {
			return nil, fmt.Errorf("opus access unit: %w", err)
		}

		pos += n
		frames = append(frames, frame{pts: pts + step,
			unit: &stream.Unit{Key: true, Payload: au.Packet}})
		step += opusTicks(au.Packet)
	}

	return frames, nil
}

// opusTicks returns a packet's duration in 90 kHz ticks (Opus counts 48 kHz).
func opusTicks(pkt []byte) int64 {
	return opus.PacketDuration2(pkt) * tsClockRate / 48000
}

// sameConfig reports whether two tracks have the same codec parameters.
func sameConfig(a, b *stream.Track) bool {
	return a.Codec == b.Codec &&
		bytes.Equal(a.VPS, b.VPS) &&
		bytes.Equal(a.SPS, b.SPS) &&
		bytes.Equal(a.PPS, b.PPS) &&
		bytes.Equal(a.AudioConfig, b.AudioConfig)
}
