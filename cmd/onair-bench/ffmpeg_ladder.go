package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/onair/onair/transcode"
)

// onair's encoder settings, as transcode's x264 encoder and rung workers set
// them (x264_encoder.go, pipeline.go, rung_worker.go, audio_transcoder.go);
// the baseline must use the same ones for the comparison to mean anything.
const (
	x264Preset  = "veryfast" // the pipeline's first preset, kept with KeepLadder
	x264Tune    = "zerolatency"
	x264Profile = "high"
	x264Params  = "scenecut=0:cabac=1:8x8dct=1:weightp=0:ref=1"

	// vbvSeconds is the VBV buffer in seconds of the bitrate; maxrate is the
	// bitrate itself.
	vbvSeconds = 1

	// gopSegments is how many segments long the encoder's own GOP limit is.
	gopSegments = 10

	// scaleFlags is the swscale algorithm of every rung.
	scaleFlags = "bilinear"

	audioBitrate = "128k"
	audioRate    = "48000"
)

// ffmpegLadder is one ffmpeg command producing a whole ladder as fMP4 HLS,
// the common recipe: split and scale in one filter graph, an x264 encode
// per rung, and either an AAC encode per variant or one shared audio group.
type ffmpegLadder struct {
	Input           string
	Rungs           []transcode.Rung
	SegmentDuration time.Duration
	SharedAudio     bool   // one AAC encode in an audio group, not one per variant
	Dir             string // output folder, one sub-folder per variant
}

// Name says which baseline this is, for the output.
func (l ffmpegLadder) Name() string {
	if l.SharedAudio {
		return "ffmpeg, one shared AAC"
	}

	return "ffmpeg, AAC per variant"
}

// Args returns ffmpeg's arguments, without the program name.
func (l ffmpegLadder) Args() []string {
	args := []string{
		"-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", l.Input,
		"-filter_complex", l.filterGraph(),
	}

	for i := range l.Rungs {
		args = append(args, "-map", fmt.Sprintf("[v%d]", i))
	}

	audioMaps := len(l.Rungs)
	if l.SharedAudio {
		audioMaps = 1
	}

	for range audioMaps {
		args = append(args, "-map", "0:a:0")
	}

	args = append(args, l.videoArgs()...)
	args = append(args,
		"-c:a", "aac", "-profile:a", "aac_low", "-b:a", audioBitrate, "-ar", audioRate, "-ac", "2")

	return append(args, l.hlsArgs()...)
}

// filterGraph splits the decoded source and scales one copy per rung.
func (l ffmpegLadder) filterGraph() string {
	var b strings.Builder

	fmt.Fprintf(&b, "[0:v]split=%d", len(l.Rungs))

	for i := range l.Rungs {
		fmt.Fprintf(&b, "[s%d]", i)
	}

	for i, r := range l.Rungs {
		fmt.Fprintf(&b, ";[s%d]scale=%d:%d:flags=%s,format=yuv420p[v%d]",
			i, r.Width, r.Height, scaleFlags, i)
	}

	return b.String()
}

// videoArgs are the x264 settings, shared and then per rung.
func (l ffmpegLadder) videoArgs() []string {
	seg := l.segment().Seconds()
	args := []string{
		"-c:v", "libx264", "-preset", x264Preset, "-tune", x264Tune, "-profile:v", x264Profile,
		"-x264-params", x264Params, "-forced-idr", "1",
		"-force_key_frames:v", "expr:gte(t,n_forced*" + strconv.FormatFloat(seg, 'f', -1, 64) + ")",
	}

	for i, r := range l.Rungs {
		rate := strconv.Itoa(r.Bitrate)
		gop := max(int(r.FrameRate*seg)*gopSegments, 1)
		args = append(args,
			fmt.Sprintf("-b:v:%d", i), rate,
			fmt.Sprintf("-maxrate:v:%d", i), rate,
			fmt.Sprintf("-bufsize:v:%d", i), strconv.Itoa(r.Bitrate*vbvSeconds),
			fmt.Sprintf("-g:v:%d", i), strconv.Itoa(gop))
	}

	return args
}

// hlsArgs write every variant as fMP4 HLS under Dir/<rung name>/.
func (l ffmpegLadder) hlsArgs() []string {
	return []string{
		"-f", "hls", "-hls_time", strconv.FormatFloat(l.segment().Seconds(), 'f', -1, 64),
		"-hls_playlist_type", "vod", "-hls_segment_type", "fmp4",
		"-hls_flags", "independent_segments",
		"-hls_segment_filename", filepath.Join(l.Dir, "%v", "seg_%d.m4s"),
		"-master_pl_name", "master.m3u8",
		"-var_stream_map", l.streamMap(),
		filepath.Join(l.Dir, "%v", "index.m3u8"),
	}
}

// streamMap pairs every video rung with its audio, or with the audio group.
func (l ffmpegLadder) streamMap() string {
	var vs []string
	if l.SharedAudio {
		vs = append(vs, "a:0,agroup:aud,name:audio")
	}

	for i, r := range l.Rungs {
		if l.SharedAudio {
			vs = append(vs, fmt.Sprintf("v:%d,agroup:aud,name:%s", i, r.Name))
		} else {
			vs = append(vs, fmt.Sprintf("v:%d,a:%d,name:%s", i, i, r.Name))
		}
	}

	return strings.Join(vs, " ")
}

// Variants returns the names of the media playlists the command writes.
func (l ffmpegLadder) Variants() []string {
	var names []string
	if l.SharedAudio {
		names = append(names, "audio")
	}

	for _, r := range l.Rungs {
		names = append(names, r.Name)
	}

	return names
}

// Check fails unless every variant's playlist lists at least one segment.
func (l ffmpegLadder) Check() error {
	for _, name := range l.Variants() {
		pl, err := os.ReadFile(filepath.Join(l.Dir, name, "index.m3u8"))
		if err != nil {
			return fmt.Errorf("%s: variant %s: %w", l.Name(), name, err)
		}

		if n, _ := playlistSegments(pl); n == 0 {
			return fmt.Errorf("%s: variant %s has no segment", l.Name(), name)
		}
	}

	return nil
}

func (l ffmpegLadder) segment() time.Duration {
	if l.SegmentDuration <= 0 {
		return transcode.DefaultSegmentDuration
	}

	return l.SegmentDuration
}
