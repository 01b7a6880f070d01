// Command onair-bench compares onair's transcoding ladder with one ffmpeg
// command producing the same ladder with the same x264 settings, and prints
// CPU seconds per minute of input, peak RSS and their ratios (`make bench`).
//
// Usage:
//
//	onair-bench [-runs N] [-clip FILE] [-v]
//
// It transcodes the clip and a 1080p30 version of it made with ffmpeg. Each
// side runs as a child process whose rusage the bench reads: onair's side is
// this program again, demuxing the clip into a stream.Broadcast read by a
// transcode.Pipeline that writes into a packager.Presentation.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/onair/onair/internal/samples"
	"github.com/onair/onair/transcode"
)

// defaultClip is the shared sample clip.
var defaultClip = samples.Path("bbb-720p24-10s.mp4")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the whole program; it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if path := os.Getenv(childEnv); path != "" {
		return runChild(ctx, path, stdout, stderr)
	}

	fs := flag.NewFlagSet("onair-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)

	b := &bench{Out: stdout, Errs: stderr}
	fs.IntVar(&b.Runs, "runs", 1, "measure each side `N` times and report the median")
	fs.StringVar(&b.Clip, "clip", defaultClip, "source clip (a testsrc2 clip when missing)")
	fs.BoolVar(&b.Verbose, "v", false, "let onair's side log at Info")

	if err := fs.Parse(args); err != nil {
		return 2
	}

	if b.Runs < 1 || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "onair-bench: -runs must be at least 1 and no arguments follow the flags")

		return 2
	}

	if err := b.Run(ctx); err != nil {
		fmt.Fprintln(stderr, "onair-bench:", err)

		return 1
	}

	return 0
}

// runChild is onair's side: it transcodes path and writes its report as JSON.
func runChild(ctx context.Context, path string, stdout, stderr io.Writer) int {
	transcode.SetMemoryDefaults()

	level := slog.LevelWarn
	if os.Getenv(verboseEnv) == "1" {
		level = slog.LevelInfo
	}

	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	rep, err := transcodeClip(ctx, path, log.With("side", "onair"))
	if err != nil {
		fmt.Fprintln(stderr, "onair-bench child:", err)

		return 1
	}

	if err := json.NewEncoder(stdout).Encode(rep); err != nil {
		fmt.Fprintln(stderr, "onair-bench child:", err)

		return 1
	}

	return 0
}
