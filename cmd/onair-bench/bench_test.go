package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/onair/onair/transcode"
)

// smallClip makes a 2 s 854x480 testsrc2+sine clip: a two-rung ladder that
// both sides transcode in a few seconds.
func smallClip(t *testing.T) string {
	t.Helper()

	path := filepath.Join(t.TempDir(), "small.mp4")
	err := ffmpeg(context.Background(),
		"-f", "lavfi", "-i", "testsrc2=size=854x480:rate=24:duration=2",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100:duration=2",
		"-c:v", "libx264", "-preset", "ultrafast", "-g", "24", "-pix_fmt", "yuv420p",
		"-c:a", "aac", "-shortest", path)
	if err != nil {
		t.Fatal(err)
	}

	return path
}

func TestFFmpegLadderArgs(t *testing.T) {
	rungs := transcode.PlanLadder(1920, 1080, 30)

	tests := []struct {
		name      string
		shared    bool
		audioMaps int
		streamMap string
	}{
		{"AAC per variant", false, 4, "v:0,a:0,name:1080p v:1,a:1,name:720p " +
			"v:2,a:2,name:480p v:3,a:3,name:360p"},
		{"one shared AAC", true, 1, "a:0,agroup:aud,name:audio v:0,agroup:aud,name:1080p " +
			"v:1,agroup:aud,name:720p v:2,agroup:aud,name:480p v:3,agroup:aud,name:360p"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := ffmpegLadder{Input: "in.mp4", Rungs: rungs, SharedAudio: tt.shared, Dir: "out"}
			args := l.Args()

			if got := countPairs(args, "-map", "0:a:0"); got != tt.audioMaps {
				t.Errorf("audio maps: got %d, want %d", got, tt.audioMaps)
			}

			if got := value(args, "-var_stream_map"); got != tt.streamMap {
				t.Errorf("var_stream_map: got %q, want %q", got, tt.streamMap)
			}

			for i, r := range rungs {
				rate := fmt.Sprint(r.Bitrate)
				for _, opt := range []string{"-b:v:%d", "-maxrate:v:%d", "-bufsize:v:%d"} {
					if got := value(args, fmt.Sprintf(opt, i)); got != rate {
						t.Errorf("%s: got %q, want %q", fmt.Sprintf(opt, i), got, rate)
					}
				}

				if got := value(args, fmt.Sprintf("-g:v:%d", i)); got != "600" {
					t.Errorf("gop of %s: got %q, want 600", r.Name, got)
				}

				scale := fmt.Sprintf("scale=%d:%d:flags=bilinear", r.Width, r.Height)
				if !strings.Contains(value(args, "-filter_complex"), scale) {
					t.Errorf("filter graph lacks %s", scale)
				}
			}

			for opt, want := range map[string]string{
				"-preset": "veryfast", "-tune": "zerolatency", "-profile:v": "high",
				"-x264-params":        "scenecut=0:cabac=1:8x8dct=1:weightp=0:ref=1",
				"-force_key_frames:v": "expr:gte(t,n_forced*2)",
			} {
				if got := value(args, opt); got != want {
					t.Errorf("%s: got %q, want %q", opt, got, want)
				}
			}
		})
	}
}

// TestSides runs both sides on a small clip with the checks the bench makes.
func TestSides(t *testing.T) {
	path := smallClip(t)
	c, err := probeClip(context.Background(), "small", path)
	if err != nil {
		t.Fatal(err)
	}

	rungs := transcode.PlanLadder(c.Width, c.Height, c.FrameRate)
	if len(rungs) != 2 {
		t.Fatalf("ladder of %dx%d: got %d rungs, want 2", c.Width, c.Height, len(rungs))
	}

	t.Run("onair", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()

		rep, err := transcodeClip(ctx, path, nil)
		if err != nil {
			t.Fatal(err)
		}

		if rep.Pictures != 48 {
			t.Errorf("pictures: got %d, want 48", rep.Pictures)
		}

		if err := rep.check(rungs); err != nil {
			t.Fatal(err)
		}
	})

	for _, shared := range []bool{false, true} {
		l := ffmpegLadder{Input: path, Rungs: rungs, SharedAudio: shared, Dir: t.TempDir()}
		t.Run(l.Name(), func(t *testing.T) {
			s, err := measure(exec.Command("ffmpeg", l.Args()...))
			if err != nil {
				t.Fatal(err)
			}

			if s.CPU <= 0 || s.RSS <= 0 {
				t.Errorf("rusage: got %+v", s)
			}

			if err := l.Check(); err != nil {
				t.Fatal(err)
			}

			want := l.Variants()
			got, _ := os.ReadDir(l.Dir)
			for _, name := range want {
				if !slices.ContainsFunc(got, func(e os.DirEntry) bool { return e.Name() == name }) {
					t.Errorf("variant folder %s missing, got %v", name, got)
				}
			}
		})
	}
}

func TestReportCheck(t *testing.T) {
	rungs := transcode.PlanLadder(854, 480, 24)
	good := func() *onairReport {
		rep := &onairReport{Pictures: 48}
		for _, r := range rungs {
			rep.Renditions = append(rep.Renditions, renditionReport{
				Name: r.Name, Video: true, Width: r.Width, Height: r.Height,
				Bitrate: r.Bitrate, Frames: 48, Segments: 1,
			})
		}

		rep.Renditions = append(rep.Renditions, renditionReport{Name: "audio", Segments: 1})

		return rep
	}

	tests := []struct {
		name    string
		change  func(*onairReport)
		wantErr string
	}{
		{"complete", func(*onairReport) {}, ""},
		{"rung without segments", func(r *onairReport) { r.Renditions[1].Segments = 0 },
			"has no segment"},
		{"pictures lost", func(r *onairReport) { r.Renditions[0].Frames = 47 }, "encoded 47 of 48"},
		{"other size", func(r *onairReport) { r.Renditions[0].Width = 852 }, "planned"},
		{"rung missing", func(r *onairReport) { r.Renditions = r.Renditions[1:] }, "planned"},
		{"no audio", func(r *onairReport) { r.Renditions = r.Renditions[:2] }, "0 audio"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := good()
			tt.change(rep)

			err := rep.check(rungs)
			if tt.wantErr == "" && err != nil {
				t.Fatalf("got %v, want nil", err)
			}

			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("got %v, want an error with %q", err, tt.wantErr)
			}
		})
	}
}

func TestMedian(t *testing.T) {
	tests := []struct {
		name    string
		samples []sample
		want    sample
	}{
		{"one", []sample{{CPU: 3, RSS: 7}}, sample{CPU: 3, RSS: 7}},
		{"odd, each on its own", []sample{{5, 1}, {1, 9}, {3, 4}}, sample{CPU: 3, RSS: 4}},
		{"even", []sample{{4, 10}, {2, 20}}, sample{CPU: 3, RSS: 15}},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := median(tt.samples); got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// value returns the argument after the first opt in args.
func value(args []string, opt string) string {
	i := slices.Index(args, opt)
	if i < 0 || i+1 >= len(args) {
		return ""
	}

	return args[i+1]
}

// countPairs counts opt followed by val in args.
func countPairs(args []string, opt, val string) int {
	n := 0
	for i := 0; i+1 < len(args); i++ {
		if args[i] == opt && args[i+1] == val {
			n++
		}
	}

	return n
}
