package transcode

/*
#include <malloc.h>
*/
import "C"

import (
	"os"
	"runtime/debug"
)

// Process-wide memory settings of a transcoding process (SetMemoryDefaults).
const (
	// mallocArenas caps glibc's malloc arenas. Decoders, scalers and x264
	// allocate from whichever OS thread the Go scheduler runs them on, and
	// glibc gives up to eight arenas per core to such threads, each keeping
	// freed memory of its own.
	mallocArenas = 2

	// mmapThreshold is the allocation size from which glibc maps memory of
	// its own, handed back to the system when freed. glibc raises it as big
	// blocks are freed (up to 32 MiB), after which freed pictures and packets
	// stay in its heaps; a fixed threshold keeps them out.
	mmapThreshold = 128 << 10

	// gcPercent is the Go heap growth that starts a collection. The heap
	// holds byte slices (source units, encoded pictures, segments) that are
	// cheap to mark, so collecting early costs little CPU and keeps garbage
	// from adding to the resident set.
	gcPercent = 25
)

// SetMemoryDefaults applies the memory settings onair transcodes with: at
// most mallocArenas glibc malloc arenas unless MALLOC_ARENA_MAX is set, a
// fixed mmapThreshold unless MALLOC_MMAP_THRESHOLD_ is set, and a Go GC
// percent of gcPercent unless GOGC is set. `onair serve` and the
// bench call it first thing, so that the bench measures the product's
// settings.
func SetMemoryDefaults() {
	if os.Getenv("MALLOC_ARENA_MAX") == "" {
		C.mallopt(C.M_ARENA_MAX, mallocArenas)
	}

	if os.Getenv("MALLOC_MMAP_THRESHOLD_") == "" {
		C.mallopt(C.M_MMAP_THRESHOLD, mmapThreshold)
	}

	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
}
