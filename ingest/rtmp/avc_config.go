package rtmp

import (
	"encoding/binary"
	"fmt"
)

// avcConfig is the part of an AVCDecoderConfigurationRecord (ISO/IEC
// 14496-15, 5.3.3.1) that onair needs.
type avcConfig struct {
	// LengthSize is the size in bytes of each NALU length prefix: 1, 2 or 4.
	LengthSize int

	// SPS and PPS are the first parameter sets of each kind.
	SPS, PPS []byte
}

// parseAVCConfig parses an AVCDecoderConfigurationRecord. SPS and PPS are
// copies, so that buf may be reused.
func parseAVCConfig(buf []byte) (avcConfig, error) {
	// configurationVersion, profile, compatibility, level, lengthSizeMinusOne.
	if len(buf) < 6 {
		return avcConfig{}, fmt.Errorf("avc decoder configuration of %d bytes is too short", len(buf))
	}

	if buf[0] != 1 {
		return avcConfig{}, fmt.Errorf("avc decoder configuration version %d is not 1", buf[0])
	}

	c := avcConfig{LengthSize: int(buf[4]&0x03) + 1}
	if c.LengthSize == 3 {
		return avcConfig{}, fmt.Errorf("avc nalu length size %d is not 1, 2 or 4", c.LengthSize)
	}

	pos := 5
	sps, pos, err := readParameterSets(buf, pos, int(buf[5]&0x1f))
	if err != nil {
		return avcConfig{}, fmt.Errorf("avc sps: %w", err)
	}

	if pos >= len(buf) {
		return avcConfig{}, errNoParameterSets
	}

	pps, _, err := readParameterSets(buf, pos, int(buf[pos]))
	if err != nil {
		return avcConfig{}, fmt.Errorf("avc pps: %w", err)
	}

	if sps == nil || pps == nil {
		return avcConfig{}, errNoParameterSets
	}

	c.SPS = append([]byte(nil), sps...)
	c.PPS = append([]byte(nil), pps...)

	return c, nil
}

// readParameterSets reads count 16-bit-length-prefixed sets after the count
// byte at pos, returning the first one and the position after the last.
func readParameterSets(buf []byte, pos, count int) ([]byte, int, error) {
	pos++ // the count byte

	var first []byte
	for i := 0; i < count; i++ {
		if pos+2 > len(buf) {
			return nil, 0, fmt.Errorf("set %d length is cut off at byte %d", i, pos)
		}

		n := int(binary.BigEndian.Uint16(buf[pos:]))
		pos += 2

		if n == 0 || pos+n > len(buf) {
			return nil, 0, fmt.Errorf("set %d of %d bytes does not fit in %d", i, n, len(buf)-pos)
		}

		if first == nil {
			first = buf[pos : pos+n]
		}

		pos += n
	}

	return first, pos, nil
}

// splitNALUs splits length-prefixed NALUs (AVCC framing). The NALUs alias buf.
func splitNALUs(buf []byte, lengthSize int) ([][]byte, error) {
	var nalus [][]byte
	for len(buf) > 0 {
		if len(buf) < lengthSize {
			return nil, fmt.Errorf("nalu length of %d bytes is cut off", lengthSize)
		}

		n := 0
		for _, b := range buf[:lengthSize] {
			n = n<<8 | int(b)
		}

		buf = buf[lengthSize:]
		if n > len(buf) {
			return nil, fmt.Errorf("nalu of %d bytes exceeds the %d left in the tag", n, len(buf))
		}

		if n > 0 {
			nalus = append(nalus, buf[:n])
		}

		buf = buf[n:]
	}

	if len(nalus) == 0 {
		return nil, errNoNALU
	}

	return nalus, nil
}
