package transcode

/*
#cgo pkg-config: libavutil
#include <libavutil/frame.h>
*/
import "C"

import "github.com/asticode/go-astiav"

// writable reports whether f's buffers are f's alone (av_frame_is_writable),
// so that it may be drawn over; go-astiav v0.16.0 does not wrap it.
func writable(f *astiav.Frame) bool {
	return C.av_frame_is_writable((*C.AVFrame)(f.UnsafePointer())) != 0
}
