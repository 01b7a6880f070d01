package rtmp

import (
	"bytes"
	"fmt"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"

	"github.com/onair/onair/ingest/stream"
)

// newVideoTrack builds a track from a video sequence header. For H.264 it
// returns the configuration record too; other codecs get a track that only
// names the codec, so that the input can be failed with a clear reason.
func newVideoTrack(t videoTag) (*stream.Track, avcConfig, error) {
	if t.Codec == stream.CodecOtherVideo {
		return &stream.Track{Codec: t.Codec, Format: t.Name}, avcConfig{}, nil
	}

	if t.Codec != stream.CodecH264 {
		return &stream.Track{Codec: t.Codec}, avcConfig{}, nil
	}

	c, err := parseAVCConfig(t.Data)
	if err != nil {
		return nil, avcConfig{}, err
	}

	tr := &stream.Track{Codec: stream.CodecH264, SPS: c.SPS, PPS: c.PPS}

	// A SPS the parser cannot read still plays; only the dimensions are lost.
	var sps h264.SPS
	if err := sps.Unmarshal(c.SPS); err == nil {
		tr.Width = sps.Width()
		tr.Height = sps.Height()
		tr.FrameRate = sps.FPS()
	}

	return tr, c, nil
}

// newAudioTrack builds a track from an audio sequence header. For AAC the
// sample rate and channel count come from the AudioSpecificConfig, never from
// the FLV flags, which cannot express 48 kHz or more than two channels.
func newAudioTrack(t audioTag) (*stream.Track, error) {
	if t.Codec != stream.CodecAAC {
		tr := &stream.Track{Codec: t.Codec}
		if t.Codec == stream.CodecOtherAudio {
			tr.Format = t.Name
		}

		if t.Codec == stream.CodecMP3 {
			tr.SampleRate = t.SampleRate
			tr.Channels = t.Channels
		}

		return tr, nil
	}

	var asc mpeg4audio.AudioSpecificConfig
	if err := asc.Unmarshal(t.Data); err != nil {
		return nil, fmt.Errorf("aac audio specific config: %w", err)
	}

	tr := &stream.Track{
		Codec:       stream.CodecAAC,
		AudioConfig: append([]byte(nil), t.Data...),
		SampleRate:  asc.SampleRate,
		Channels:    aacChannels(asc.ChannelConfig),
	}

	return tr, nil
}

// aacChannels maps a channelConfiguration (ISO/IEC 14496-3, 1.6.3.5) to a
// channel count; 0 means the count is given elsewhere and is unknown here.
func aacChannels(config uint8) int {
	switch {
	case config >= 1 && config <= 6:
		return int(config)

	case config == 7:
		return 8
	}

	return 0
}

// sameTrack reports whether two tracks have the same codec parameters.
func sameTrack(a, b *stream.Track) bool {
	if a == nil || b == nil {
		return a == b
	}

	return a.Codec == b.Codec &&
		bytes.Equal(a.SPS, b.SPS) &&
		bytes.Equal(a.PPS, b.PPS) &&
		bytes.Equal(a.AudioConfig, b.AudioConfig) &&
		a.SampleRate == b.SampleRate &&
		a.Channels == b.Channels
}
