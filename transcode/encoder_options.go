package transcode

/*
#cgo pkg-config: libavcodec libavutil
#include <stdlib.h>
#include <libavcodec/avcodec.h>
#include <libavutil/opt.h>

// onair_check_option sets key=value on a fresh context of the named encoder,
// its private options included, as opening it would. It returns 1 when the
// encoder is missing, 2 when key is not an encoding option, else the result
// of av_opt_set (negative when the value is out of range or not a named
// constant of the option).
static int onair_check_option(const char *encoder, const char *key, const char *value) {
	const AVCodec *codec = avcodec_find_encoder_by_name(encoder);
	if (!codec) return 1;
	AVCodecContext *ctx = avcodec_alloc_context3(codec);
	if (!ctx) return AVERROR(ENOMEM);
	int ret = 2;
	const AVOption *o = av_opt_find(ctx, key, NULL, 0, AV_OPT_SEARCH_CHILDREN);
	if (o && (o->flags & AV_OPT_FLAG_ENCODING_PARAM) && o->type != AV_OPT_TYPE_CONST) {
		ret = av_opt_set(ctx, key, value, AV_OPT_SEARCH_CHILDREN);
	}
	avcodec_free_context(&ctx);
	return ret;
}
*/
import "C"

import (
	"fmt"
	"unsafe"

	"github.com/asticode/go-astiav"
)

// checkEncoderOption tells whether key=value is a valid option of the named
// FFmpeg encoder, checked against the encoder's own AVOption list (its private
// options and the generic codec options): the key must exist and the value
// must parse, be in range or be one of the option's named constants.
func checkEncoderOption(encoder, key, value string) error {
	e, k, v := C.CString(encoder), C.CString(key), C.CString(value)
	defer C.free(unsafe.Pointer(e))
	defer C.free(unsafe.Pointer(k))
	defer C.free(unsafe.Pointer(v))

	switch ret := int(C.onair_check_option(e, k, v)); {
	case ret == 1:
		return fmt.Errorf("encoder %s is not in this FFmpeg build", encoder)
	case ret == 2:
		return fmt.Errorf("%s has no encoding option %q", encoder, key)
	case ret < 0:
		return fmt.Errorf("%s option %s=%s: %w", encoder, key, value, astiav.Error(ret))
	}

	return nil
}
