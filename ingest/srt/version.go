package srt

// srtgo does not expose the library's version, so it is asked for here: the
// one call into libsrt outside srtgo, and no state is shared with it.

// #cgo LDFLAGS: -lsrt
// #include <srt/srt.h>
import "C"

import "fmt"

// LibraryVersion returns the version of the libsrt onair runs with, as
// major.minor.patch.
func LibraryVersion() string {
	v := uint32(C.srt_getversion())

	return fmt.Sprintf("%d.%d.%d", v>>16, (v>>8)&0xff, v&0xff)
}
