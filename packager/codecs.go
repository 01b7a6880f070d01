package packager

import (
	"fmt"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
)

// avcCodec returns the RFC 6381 CODECS value of an H.264 stream, avc1.PPCCLL:
// profile_idc, the constraint flags byte and level_idc, read from the SPS
// (ISO/IEC 14496-10 7.3.2.1.1; the first byte is the NAL unit header).
func avcCodec(sps []byte) (string, error) {
	if len(sps) < 4 {
		return "", fmt.Errorf("sps of %d bytes is too short for a codecs string, need 4",
			len(sps))
	}

	return fmt.Sprintf("avc1.%02x%02x%02x", sps[1], sps[2], sps[3]), nil
}

// aacCodec returns the RFC 6381 CODECS value of an MPEG-4 audio stream,
// mp4a.40.<audio object type>: 2 for AAC-LC, 5 for HE-AAC, 29 for HE-AACv2
// (ISO/IEC 14496-3 1.5.1.1).
func aacCodec(conf *mpeg4audio.AudioSpecificConfig) string {
	typ := conf.Type

	// With explicit SBR or PS signalling the parsed Type is the core codec
	// and ExtensionType says what plays (ISO/IEC 14496-3 1.6.5.2).
	if conf.ExtensionType == mpeg4audio.ObjectTypeSBR ||
		conf.ExtensionType == mpeg4audio.ObjectTypePS {
		typ = conf.ExtensionType
	}

	return fmt.Sprintf("mp4a.40.%d", int(typ))
}
