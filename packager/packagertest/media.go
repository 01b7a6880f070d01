// Package packagertest makes real encoded broadcasts for tests of the packager
// and of its readers: it runs the ffmpeg command to encode H.264 rungs with
// aligned keyframes and AAC audio, and returns them as stream tracks and units
// in decode order, the way the transcoder hands them over.
package packagertest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"

	"github.com/onair/onair/ingest/stream"
	"github.com/onair/onair/internal/samples"
)

// SampleDir is where the team's sample clips are; without it, ffmpeg's
// testsrc2 and sine sources stand in.
var SampleDir = samples.Dir()

// Rung is one video rendition to encode.
type Rung struct {
	Name          string
	Width, Height int
	Bitrate       int // bits per second
}

// Options says what to encode.
type Options struct {
	Rungs       []Rung
	Audio       bool
	Duration    time.Duration // of the clip; default 6 s
	FrameRate   int           // default 25
	KeyInterval time.Duration // forced keyframe interval; default 2 s
	BFrames     bool          // let x264 reorder pictures
}

// Media is an encoded broadcast: its tracks and their units in decode order.
type Media struct {
	Tracks []*stream.Track
	Units  []*stream.Unit
}

// Make encodes a broadcast as o says, in a temporary directory of t.
func Make(t testing.TB, o Options) *Media {
	t.Helper()

	if o.Duration <= 0 {
		o.Duration = 6 * time.Second
	}

	if o.FrameRate <= 0 {
		o.FrameRate = 25
	}

	if o.KeyInterval <= 0 {
		o.KeyInterval = 2 * time.Second
	}

	dir := t.TempDir()
	run(t, "ffmpeg", encodeArgs(o, dir)...)

	m := &Media{}
	id := 1

	for i, rung := range o.Rungs {
		tr, units := readRung(t, dir, i, rung, o.FrameRate)
		tr.ID = id
		id++

		m.Tracks = append(m.Tracks, tr)
		m.Units = append(m.Units, units...)
	}

	if o.Audio {
		tr, units := readAudio(t, filepath.Join(dir, "audio.aac"))
		tr.ID = id

		m.Tracks = append(m.Tracks, tr)
		m.Units = append(m.Units, units...)
	}

	sort.SliceStable(m.Units, func(i, j int) bool { return m.Units[i].DTS < m.Units[j].DTS })

	return m
}

// encodeArgs is one ffmpeg run writing every rung as MP4 (exact timestamps)
// and the audio as ADTS.
func encodeArgs(o Options, dir string) []string {
	secs := strconv.FormatFloat(o.Duration.Seconds(), 'f', 3, 64)
	args := []string{"-nostdin", "-v", "error", "-y"}

	clip := filepath.Join(SampleDir, "bbb-720p25-10s.mp4")
	if _, err := os.Stat(clip); err == nil {
		args = append(args, "-t", secs, "-i", clip)
	} else {
		args = append(args, "-f", "lavfi", "-t", secs, "-i", "testsrc2=size=1280x720:rate=25",
			"-f", "lavfi", "-t", secs, "-i", "sine=frequency=440:sample_rate=48000")
	}

	bf := "0"
	if o.BFrames {
		bf = "3"
	}

	keys := fmt.Sprintf("expr:gte(t,n_forced*%g)", o.KeyInterval.Seconds())

	for i, r := range o.Rungs {
		args = append(args, "-map", "0:v:0", "-an",
			"-vf", fmt.Sprintf("scale=%d:%d,fps=%d", r.Width, r.Height, o.FrameRate),
			"-c:v", "libx264", "-preset", "veryfast", "-bf", bf, "-g", "1000",
			"-x264-params", "scenecut=0:aud=1", "-force_key_frames", keys,
			"-b:v", strconv.Itoa(r.Bitrate), "-threads", "1",
			filepath.Join(dir, fmt.Sprintf("rung%d.mp4", i)))
	}

	if o.Audio {
		audio := "0:a:0"
		if _, err := os.Stat(clip); err != nil {
			audio = "1:a:0"
		}

		args = append(args, "-map", audio, "-vn", "-c:a", "aac", "-b:a", "96k", "-ac", "2",
			"-ar", "48000", "-f", "adts", filepath.Join(dir, "audio.aac"))
	}

	return args
}

// readRung turns an encoded rung into a track and its units: the pictures
// come from its Annex-B form, their timestamps and key flags from ffprobe.
func readRung(t testing.TB, dir string, i int, r Rung, fps int) (*stream.Track, []*stream.Unit) {
	t.Helper()

	mp4 := filepath.Join(dir, fmt.Sprintf("rung%d.mp4", i))
	raw := filepath.Join(dir, fmt.Sprintf("rung%d.h264", i))
	run(t, "ffmpeg", "-nostdin", "-v", "error", "-y", "-i", mp4, "-c", "copy",
		"-bsf:v", "h264_mp4toannexb", "-f", "h264", raw)

	pkts := probePackets(t, mp4)
	aus := splitAnnexB(t, raw)

	if len(aus) != len(pkts) {
		t.Fatalf("rung %s: %d access units in annex-b, %d packets in mp4", r.Name, len(aus),
			len(pkts))
	}

	tr := &stream.Track{Codec: stream.CodecH264, Name: r.Name, Width: r.Width, Height: r.Height,
		FrameRate: float64(fps), Bitrate: r.Bitrate}

	units := make([]*stream.Unit, 0, len(aus))

	for k, au := range aus {
		var nalus [][]byte

		for _, n := range au {
			switch h264.NALUType(n[0] & 0x1f) {
			case h264.NALUTypeSPS:
				tr.SPS = tr.SPS[:0:0]
				tr.SPS = append(tr.SPS, n...)
			case h264.NALUTypePPS:
				tr.PPS = tr.PPS[:0:0]
				tr.PPS = append(tr.PPS, n...)
			}

			if h264.NALUType(n[0]&0x1f) != h264.NALUTypeAccessUnitDelimiter {
				nalus = append(nalus, n)
			}
		}

		units = append(units, &stream.Unit{Track: tr, PTS: pkts[k].pts, DTS: pkts[k].dts,
			Key: pkts[k].key, NALUs: nalus})
	}

	return tr, units
}

// splitAnnexB splits a raw H.264 stream into access units at its delimiters.
func splitAnnexB(t testing.TB, path string) [][][]byte {
	t.Helper()

	buf, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	delim := []byte{0, 0, 0, 1, 9}

	var aus [][][]byte

	for len(buf) > 0 {
		next := bytes.Index(buf[len(delim):], delim)
		chunk := buf
		if next >= 0 {
			chunk, buf = buf[:next+len(delim)], buf[next+len(delim):]
		} else {
			buf = nil
		}

		var au h264.AnnexB

		err := au.Unmarshal(chunk)
		if err != nil {
			t.Fatalf("annex-b access unit %d: %v", len(aus), err)
		}

		aus = append(aus, au)
	}

	return aus
}

type packet struct {
	pts, dts time.Duration
	key      bool
}

// probePackets lists a file's video packets in decode order.
func probePackets(t testing.TB, path string) []packet {
	t.Helper()

	out := run(t, "ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
		"stream=time_base:packet=pts,dts,flags", "-of", "json", path)

	var probe struct {
		Streams []struct {
			TimeBase string `json:"time_base"`
		}
		Packets []struct {
			PTS   int64  `json:"pts"`
			DTS   int64  `json:"dts"`
			Flags string `json:"flags"`
		}
	}

	err := json.Unmarshal(out, &probe)
	if err != nil || len(probe.Streams) == 0 {
		t.Fatalf("ffprobe %s: %v", path, err)
	}

	var num, den int64
	if _, err := fmt.Sscanf(probe.Streams[0].TimeBase, "%d/%d", &num, &den); err != nil {
		t.Fatalf("time base %q: %v", probe.Streams[0].TimeBase, err)
	}

	conv := func(v int64) time.Duration {
		return time.Duration(v * num * int64(time.Second) / den)
	}

	pkts := make([]packet, 0, len(probe.Packets))
	for _, p := range probe.Packets {
		pkts = append(pkts, packet{pts: conv(p.PTS), dts: conv(p.DTS),
			key: strings.Contains(p.Flags, "K")})
	}

	return pkts
}

// readAudio turns an ADTS file into an AAC track and its frames, timed by
// 1024 samples a frame.
func readAudio(t testing.TB, path string) (*stream.Track, []*stream.Unit) {
	t.Helper()

	buf, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	var pkts mpeg4audio.ADTSPackets

	err = pkts.Unmarshal(buf)
	if err != nil || len(pkts) == 0 {
		t.Fatalf("adts %s: %v", path, err)
	}

	conf := mpeg4audio.AudioSpecificConfig{Type: pkts[0].Type, SampleRate: pkts[0].SampleRate,
		ChannelConfig: pkts[0].ChannelConfig, ChannelCount: int(pkts[0].ChannelConfig)}

	raw, err := conf.Marshal()
	if err != nil {
		t.Fatal(err)
	}

	tr := &stream.Track{Codec: stream.CodecAAC, Name: "audio", AudioConfig: raw,
		SampleRate: conf.SampleRate, Channels: int(conf.ChannelConfig), Bitrate: 96_000}

	units := make([]*stream.Unit, 0, len(pkts))
	for i, p := range pkts {
		ts := time.Duration(i*1024) * time.Second / time.Duration(conf.SampleRate)
		units = append(units, &stream.Unit{Track: tr, PTS: ts, DTS: ts, Key: true, Payload: p.AU})
	}

	return tr, units
}

// run runs a command and returns its standard output, failing t on error.
func run(t testing.TB, name string, args ...string) []byte {
	t.Helper()

	var stderr bytes.Buffer

	cmd := exec.Command(name, args...)
	cmd.Stderr = &stderr

	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, stderr.String())
	}

	return out
}
