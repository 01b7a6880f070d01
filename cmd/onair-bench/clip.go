package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clip is one input of the bench, as ffprobe sees it.
type clip struct {
	Label     string // short name for the output lines, "720p24"
	Path      string
	Width     int
	Height    int
	FrameRate float64
	Duration  time.Duration
}

// String describes the clip for the output.
func (c *clip) String() string {
	return fmt.Sprintf("%s (%s): %dx%d at %s fps, %.2f s", c.Label, filepath.Base(c.Path),
		c.Width, c.Height, strconv.FormatFloat(c.FrameRate, 'f', -1, 64), c.Duration.Seconds())
}

// fallbackClip makes a 10 s 720p24 testsrc2 and sine clip in dir, for when
// the shared sample clip is missing.
func fallbackClip(ctx context.Context, dir string) (string, error) {
	path := filepath.Join(dir, "testsrc2-720p24-10s.mp4")
	err := ffmpeg(ctx, "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=24:duration=10",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100:duration=10",
		"-c:v", "libx264", "-preset", "veryfast", "-g", "48", "-pix_fmt", "yuv420p",
		"-c:a", "aac", "-shortest", path)
	if err != nil {
		return "", fmt.Errorf("making the fallback clip: %w", err)
	}

	return path, nil
}

// upscaledClip makes a 1080p30 version of src in dir, its audio copied.
func upscaledClip(ctx context.Context, src, dir string) (string, error) {
	path := filepath.Join(dir, "1080p30.mp4")
	err := ffmpeg(ctx, "-i", src, "-vf", "scale=1920:1080,fps=30",
		"-c:v", "libx264", "-crf", "18", "-preset", "fast", "-pix_fmt", "yuv420p",
		"-c:a", "copy", path)
	if err != nil {
		return "", fmt.Errorf("making the 1080p30 clip from %s: %w", src, err)
	}

	return path, nil
}

// ffmpeg runs one preparation command, not measured.
func ffmpeg(ctx context.Context, args ...string) error {
	args = append([]string{"-nostdin", "-hide_banner", "-loglevel", "error", "-y"}, args...)

	out, err := exec.CommandContext(ctx, "ffmpeg", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ffmpeg: %w: %s", err, bytes.TrimSpace(out))
	}

	return nil
}

// probeClip reads the first video stream's size and rate and the file's
// duration with ffprobe.
func probeClip(ctx context.Context, label, path string) (*clip, error) {
	out, err := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-select_streams", "v:0",
		"-show_entries", "stream=width,height,r_frame_rate:format=duration",
		"-of", "json", path).Output()
	if err != nil {
		return nil, fmt.Errorf("ffprobe %s: %w", path, err)
	}

	var probe struct {
		Streams []struct {
			Width, Height int
			RFrameRate    string `json:"r_frame_rate"`
		}
		Format struct {
			Duration string
		}
	}

	if err := json.Unmarshal(out, &probe); err != nil {
		return nil, fmt.Errorf("ffprobe %s: %w", path, err)
	}

	if len(probe.Streams) == 0 {
		return nil, fmt.Errorf("%s has no video stream", path)
	}

	s := probe.Streams[0]
	secs, err := strconv.ParseFloat(probe.Format.Duration, 64)
	if err != nil || secs <= 0 {
		return nil, fmt.Errorf("%s: duration %q unreadable", path, probe.Format.Duration)
	}

	fps, err := parseRate(s.RFrameRate)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}

	return &clip{
		Label: label, Path: path, Width: s.Width, Height: s.Height, FrameRate: fps,
		Duration: time.Duration(secs * float64(time.Second)),
	}, nil
}

// parseRate reads a frame rate written as a fraction, "30000/1001".
func parseRate(s string) (float64, error) {
	num, den, ok := strings.Cut(s, "/")
	n, err1 := strconv.ParseFloat(num, 64)
	d, err2 := strconv.ParseFloat(den, 64)

	if !ok || err1 != nil || err2 != nil || n <= 0 || d <= 0 {
		return 0, fmt.Errorf("frame rate %q unreadable", s)
	}

	return n / d, nil
}
