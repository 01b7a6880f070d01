package rtmp

import (
	"fmt"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"

	"github.com/onair/onair/ingest/stream"
)

// handleVideo turns one FLV video tag into a track change or a unit.
func (c *conn) handleVideo(ts uint32, buf []byte) error {
	tag, err := parseVideoTag(buf)
	if err != nil {
		return err
	}

	switch tag.Kind {
	case tagHeader:
		tr, cfg, err := newVideoTrack(tag)
		if err != nil {
			return err
		}

		if c.pubn.setVideo(tr, cfg) && tr.Codec != stream.CodecH264 {
			c.log.Warn(fmt.Sprintf("video codec %s (%s) is not supported", tr.Codec, tag.Name))
		}

		return nil

	case tagFrame:
		return c.videoFrame(ts, tag)
	}

	return nil
}

// videoFrame writes an H.264 frame; frames of other codecs are not carried.
func (c *conn) videoFrame(ts uint32, tag videoTag) error {
	tr := c.pubn.video
	if tr == nil || tr.Codec != tag.Codec {
		return fmt.Errorf("%s video frame before its sequence header", tag.Name)
	}

	if tr.Codec != stream.CodecH264 {
		return nil
	}

	nalus, err := splitNALUs(tag.Data, c.pubn.videoConfig.LengthSize)
	if err != nil {
		return err
	}

	dts := c.dts(ts, kindVideo)
	pts := dts + time.Duration(tag.CTS)*time.Millisecond
	if pts < dts {
		pts = dts
	}

	c.pubn.write(&stream.Unit{
		Track: tr,
		PTS:   pts,
		DTS:   dts,
		Key:   tag.Key || hasIDR(nalus),
		NALUs: nalus,
	})

	return nil
}

// hasIDR reports whether a picture holds an IDR slice.
func hasIDR(nalus [][]byte) bool {
	for _, n := range nalus {
		if h264.NALUType(n[0]&0x1f) == h264.NALUTypeIDR {
			return true
		}
	}

	return false
}

// handleAudio turns one FLV audio tag into a track change or a unit.
func (c *conn) handleAudio(ts uint32, buf []byte) error {
	tag, err := parseAudioTag(buf)
	if err != nil {
		return err
	}

	switch tag.Kind {
	case tagHeader:
		tr, err := newAudioTrack(tag)
		if err != nil {
			return err
		}

		if c.pubn.setAudio(tr) && tr.Codec != stream.CodecAAC {
			c.log.Warn(fmt.Sprintf("audio codec %s (%s) is not supported", tr.Codec, tag.Name))
		}

		return nil

	case tagFrame:
		return c.audioFrame(ts, tag)
	}

	return nil
}

// audioFrame writes an AAC frame; frames of other codecs are not carried.
func (c *conn) audioFrame(ts uint32, tag audioTag) error {
	tr := c.pubn.audio
	if tr == nil || tr.Codec != tag.Codec {
		return fmt.Errorf("%s audio frame before its sequence header", tag.Name)
	}

	if tr.Codec != stream.CodecAAC {
		return nil
	}

	if len(tag.Data) == 0 {
		return errEmptyAudio
	}

	dts := c.dts(ts, kindAudio)
	c.pubn.write(&stream.Unit{Track: tr, PTS: dts, DTS: dts, Key: true, Payload: tag.Data})

	return nil
}

// dts maps a message timestamp, warning once when the timeline is rebased.
func (c *conn) dts(ts uint32, k trackKind) time.Duration {
	dts, rebased := c.tl.dts(ts, k)
	if rebased && !c.rebased {
		c.rebased = true
		c.log.Warn("timestamp discontinuity, rebasing", "timestamp_ms", ts, "dts", dts)
	}

	return dts
}
