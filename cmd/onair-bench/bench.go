package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/onair/onair/transcode"
)

// Targets of the issue, against the baseline with an AAC encode per variant.
const (
	cpuTarget = 0.9 // onair's CPU at most this fraction of the baseline's
	rssTarget = 1.0 // and no more peak memory
)

// Environment of the child process that runs onair's side.
const (
	childEnv   = "ONAIR_BENCH_CHILD"   // the clip to transcode; set only in the child
	verboseEnv = "ONAIR_BENCH_VERBOSE" // "1": the child logs at Info
)

// bench measures onair's ladder against ffmpeg ladders on a set of clips.
type bench struct {
	Runs    int       // measurements per side; the median is reported
	Clip    string    // the source clip; a generated one when missing
	Verbose bool      // children log more
	Out     io.Writer // the report
	Errs    io.Writer // the children's own error output

	dir string
}

// clipResult is what one clip measured.
type clipResult struct {
	clip      *clip
	rungs     []transcode.Rung
	onair     sample
	baselines []ffmpegLadder
	base      []sample
}

// Run prepares the clips, measures each and prints the report.
func (b *bench) Run(ctx context.Context) error {
	dir, err := os.MkdirTemp("", "onair-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	b.dir = dir

	clips, err := b.clips(ctx)
	if err != nil {
		return err
	}

	fmt.Fprintf(b.Out, "onair-bench: %d CPUs, median of %d run(s) per measurement, "+
		"cpu in seconds per minute of input\n", runtime.NumCPU(), b.Runs)

	var results []*clipResult
	for _, c := range clips {
		r, err := b.measureClip(ctx, c)
		if err != nil {
			return fmt.Errorf("clip %s: %w", c.Label, err)
		}

		r.print(b.Out)
		results = append(results, r)
	}

	printTargets(b.Out, results)

	return nil
}

// clips returns the source clip and its 1080p30 version.
func (b *bench) clips(ctx context.Context) ([]*clip, error) {
	src := b.Clip
	if _, err := os.Stat(src); err != nil {
		fmt.Fprintf(b.Out, "onair-bench: %s missing, using a testsrc2 clip\n", src)

		if src, err = fallbackClip(ctx, b.dir); err != nil {
			return nil, err
		}
	}

	up, err := upscaledClip(ctx, src, b.dir)
	if err != nil {
		return nil, err
	}

	var clips []*clip
	for _, path := range []string{src, up} {
		c, err := probeClip(ctx, "", path)
		if err != nil {
			return nil, err
		}

		c.Label = fmt.Sprintf("%dp%s", c.Height, strings.TrimSuffix(
			fmt.Sprintf("%.2f", c.FrameRate), ".00"))
		clips = append(clips, c)
	}

	return clips, nil
}

// measureClip runs onair and the baselines Runs times each, interleaved so
// that a change in the machine's load spreads over all of them.
func (b *bench) measureClip(ctx context.Context, c *clip) (*clipResult, error) {
	rungs := transcode.PlanLadder(c.Width, c.Height, c.FrameRate)
	if rungs == nil {
		return nil, fmt.Errorf("no ladder for %dx%d", c.Width, c.Height)
	}

	r := &clipResult{clip: c, rungs: rungs}
	for _, shared := range []bool{false, true} {
		r.baselines = append(r.baselines, ffmpegLadder{
			Input: c.Path, Rungs: rungs, SharedAudio: shared,
		})
	}

	var onair []sample
	base := make([][]sample, len(r.baselines))

	for run := range b.Runs {
		s, err := b.runOnair(ctx, c, rungs)
		if err != nil {
			return nil, fmt.Errorf("onair run %d: %w", run+1, err)
		}

		onair = append(onair, s)

		for i, l := range r.baselines {
			l.Dir = filepath.Join(b.dir, fmt.Sprintf("%s-%d-%d", c.Label, i, run))

			s, err := b.runFFmpeg(ctx, l)
			if err != nil {
				return nil, fmt.Errorf("%s run %d: %w", l.Name(), run+1, err)
			}

			base[i] = append(base[i], s)
		}
	}

	r.onair = median(onair)
	for _, s := range base {
		r.base = append(r.base, median(s))
	}

	return r, nil
}

// runOnair re-executes this program as the child that runs onair's side,
// and checks its report.
func (b *bench) runOnair(ctx context.Context, c *clip, rungs []transcode.Rung) (sample, error) {
	exe, err := os.Executable()
	if err != nil {
		return sample{}, err
	}

	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, exe)
	cmd.Env = append(os.Environ(), childEnv+"="+c.Path)
	cmd.Stdout, cmd.Stderr = &out, b.Errs

	if b.Verbose {
		cmd.Env = append(cmd.Env, verboseEnv+"=1")
	}

	s, err := measure(cmd)
	if err != nil {
		return sample{}, fmt.Errorf("child: %w", err)
	}

	var rep onairReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		return sample{}, fmt.Errorf("child report %q: %w", out.String(), err)
	}

	return s, rep.check(rungs)
}

// runFFmpeg runs one baseline command and checks what it wrote.
func (b *bench) runFFmpeg(ctx context.Context, l ffmpegLadder) (sample, error) {
	defer os.RemoveAll(l.Dir)

	cmd := exec.CommandContext(ctx, "ffmpeg", l.Args()...)
	cmd.Stdout, cmd.Stderr = b.Errs, b.Errs

	s, err := measure(cmd)
	if err != nil {
		return sample{}, fmt.Errorf("ffmpeg %s: %w", strings.Join(l.Args(), " "), err)
	}

	return s, l.Check()
}

// check fails unless the child produced the planned ladder, every picture in
// every rung, and segments for every rendition.
func (rep *onairReport) check(rungs []transcode.Rung) error {
	var video, audio int

	for _, r := range rep.Renditions {
		if r.Segments == 0 {
			return fmt.Errorf("rendition %s has no segment", r.Name)
		}

		if !r.Video {
			audio++

			continue
		}

		if video >= len(rungs) {
			return fmt.Errorf("rendition %s is beyond the %d planned rungs", r.Name, len(rungs))
		}

		want := rungs[video]
		if r.Name != want.Name || r.Width != want.Width || r.Height != want.Height ||
			r.Bitrate != want.Bitrate {
			return fmt.Errorf("rendition %s %dx%d at %d b/s, planned %s %dx%d at %d b/s",
				r.Name, r.Width, r.Height, r.Bitrate, want.Name, want.Width, want.Height, want.Bitrate)
		}

		if r.Frames != int64(rep.Pictures) {
			return fmt.Errorf("rendition %s encoded %d of %d pictures", r.Name, r.Frames, rep.Pictures)
		}

		video++
	}

	if video != len(rungs) || audio != 1 {
		return fmt.Errorf("%d video and %d audio renditions, want %d and 1",
			video, audio, len(rungs))
	}

	return nil
}

// print writes the clip's lines: what it is, then one line per measurement.
func (r *clipResult) print(w io.Writer) {
	var names []string
	for _, rung := range r.rungs {
		names = append(names, rung.Name)
	}

	fmt.Fprintf(w, "%s; ladder %s\n", r.clip, strings.Join(names, " "))
	r.line(w, "onair (KeepLadder, default threads)", r.onair, "")

	for i, l := range r.baselines {
		s := r.base[i]
		ratio := fmt.Sprintf("  onair/this: cpu %.2fx, rss %.2fx",
			ratio(r.onair.CPU.Seconds(), s.CPU.Seconds()), ratio(float64(r.onair.RSS), float64(s.RSS)))
		r.line(w, l.Name(), s, ratio)
	}
}

func (r *clipResult) line(w io.Writer, name string, s sample, suffix string) {
	fmt.Fprintf(w, "  %-8s %-36s cpu %6.1f s/min  rss %6.1f MiB%s\n",
		r.clip.Label, name, s.perMinute(r.clip.Duration), s.mebibytes(), suffix)
}

// printTargets writes the final line: the targets against the baseline with
// an AAC encode per variant, the first baseline of every clip.
func printTargets(w io.Writer, results []*clipResult) {
	if len(results) == 0 {
		return
	}

	cpuMet, rssMet := true, true

	var cpus, rsss []string

	for _, r := range results {
		base := r.base[0]
		c := ratio(r.onair.CPU.Seconds(), base.CPU.Seconds())
		m := ratio(float64(r.onair.RSS), float64(base.RSS))
		cpuMet = cpuMet && c <= cpuTarget
		rssMet = rssMet && m <= rssTarget
		cpus = append(cpus, fmt.Sprintf("%s %.2fx", r.clip.Label, c))
		rsss = append(rsss, fmt.Sprintf("%s %.2fx", r.clip.Label, m))
	}

	fmt.Fprintf(w, "targets against %s: cpu <= %.2fx %s (%s); memory <= %.2fx %s (%s)\n",
		results[0].baselines[0].Name(), cpuTarget, verdict(cpuMet), strings.Join(cpus, ", "),
		rssTarget, verdict(rssMet), strings.Join(rsss, ", "))
}

func verdict(met bool) string {
	if met {
		return "MET"
	}

	return "NOT MET"
}

func ratio(a, b float64) float64 {
	if b <= 0 {
		return 0
	}

	return a / b
}
