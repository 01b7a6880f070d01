package transcode

/*
#cgo pkg-config: libavcodec libavutil
#include <libavcodec/avcodec.h>
#include <libavutil/avutil.h>
*/
import "C"

import (
	"fmt"

	"github.com/asticode/go-astiav"
)

// capabilityEncoders are the encoders onair can use or will use, in the
// order --hwaccel auto would try them.
var capabilityEncoders = []string{"h264_nvenc", "h264_qsv", "h264_vaapi", "libx264", "aac"}

// Capabilities describes the FFmpeg libraries linked in and which of the
// encoders onair knows they provide, one line each, for `onair version`.
// An encoder being built in does not mean its hardware is present.
func Capabilities() []string {
	lines := []string{
		fmt.Sprintf("ffmpeg: %s (libavcodec %s)", C.GoString(C.av_version_info()),
			versionString(uint(C.avcodec_version()))),
	}

	for _, name := range capabilityEncoders {
		state := "not built in"
		if astiav.FindEncoderByName(name) != nil {
			state = "built in"
		}

		if _, err := LookupEncoder(name); err == nil {
			state += ", used by onair"
		}

		lines = append(lines, fmt.Sprintf("encoder %s: %s", name, state))
	}

	return lines
}

// versionString formats an FFmpeg AV_VERSION_INT.
func versionString(v uint) string {
	return fmt.Sprintf("%d.%d.%d", v>>16, (v>>8)&0xff, v&0xff)
}
