// Command onair-edgebench measures onair's caching edge against nginx serving
// the same files from disk on the same machine (`make bench`): requests per
// second for a hot ~1 MB segment and a ~2 KB playlist, driven by wrk with the
// same duration and concurrency on both, and the ratio edge/nginx; then the
// origin requests each new segment costs when 1,000 viewers ask one edge for
// it at once.
//
// Usage:
//
//	onair-edgebench [-duration 5s] [-runs 3] [-connections 64] [-threads 2] [-viewers 1000]
//
// Everything listens on 127.0.0.1; nginx runs from a temporary directory
// with a minimal configuration and is stopped by its process id.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/onair/onair/internal/samples"
)

// defaultClip is the shared sample clip the segment is encoded from.
var defaultClip = samples.Path("bbb-720p25-10s.mp4")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the whole program; it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("onair-edgebench", flag.ContinueOnError)
	fs.SetOutput(stderr)

	b := &bench{Out: stdout}
	fs.DurationVar(&b.Duration, "duration", 5*time.Second, "load each server for `D`")
	fs.IntVar(&b.Connections, "connections", 64, "concurrent connections of the load")
	fs.IntVar(&b.Threads, "threads", 2, "wrk threads")
	fs.IntVar(&b.Runs, "runs", 3, "measure each server `N` times, alternating, and take the median")
	fs.IntVar(&b.Viewers, "viewers", 1000, "concurrent viewers per new segment")
	fs.IntVar(&b.Segments, "segments", 5, "new segments the viewers ask for")
	fs.DurationVar(&b.OriginDelay, "origin-delay", 20*time.Millisecond,
		"time the origin takes to answer a new segment in the viewers run")
	fs.StringVar(&b.Clip, "clip", defaultClip,
		"clip the segment is encoded from (testsrc2 when missing)")

	if err := fs.Parse(args); err != nil {
		return 2
	}

	if fs.NArg() > 0 || b.Duration <= 0 || b.Connections < 1 || b.Threads < 1 || b.Runs < 1 ||
		b.Viewers < 1 ||
		b.Segments < 1 {
		fmt.Fprintln(stderr, "onair-edgebench: flags must be positive and no arguments follow them")

		return 2
	}

	if err := b.Run(ctx); err != nil {
		fmt.Fprintf(stderr, "onair-edgebench: %v\n", err)

		return 1
	}

	return 0
}
