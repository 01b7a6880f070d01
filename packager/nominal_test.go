package packager

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"

	"github.com/onair/onair/ingest/stream"
	"github.com/onair/onair/packager/packagertest"
)

// listedParts returns the durations of the parts the LL-HLS playlist of
// rendition name lists for segment seq.
func listedParts(t *testing.T, p *Presentation, name string, seq uint64) []string {
	t.Helper()

	pl, err := p.LowLatencyPlaylist(name)
	if err != nil {
		t.Fatal(err)
	}

	var out []string

	for _, m := range partRE.FindAllStringSubmatch(string(pl), -1) {
		if m[2] == strconv.FormatUint(seq, 10) {
			out = append(out, m[1])
		}
	}

	return out
}

// partTrack reads back part idx of segment seq of rendition name.
func partTrack(t *testing.T, p *Presentation, name string, seq uint64,
	idx int) *fmp4.PartTrack {
	t.Helper()

	data, err := p.Part(name, seq, idx)
	if err != nil {
		t.Fatal(err)
	}

	var parts fmp4.Parts

	err = parts.Unmarshal(data)
	if err != nil {
		t.Fatal(err)
	}

	if len(parts) != 1 || len(parts[0].Tracks) != 1 {
		t.Fatalf("part %s %d.%d holds %d fragments", name, seq, idx, len(parts))
	}

	return parts[0].Tracks[0]
}

// durations returns the durations of a part's samples.
func durations(pt *fmp4.PartTrack) []uint32 {
	out := make([]uint32, len(pt.Samples))
	for i, s := range pt.Samples {
		out[i] = s.Duration
	}

	return out
}

// shiftedFrame returns AAC frame i of 1024 samples at 48 kHz, late by extra
// ticks.
func shiftedFrame(track *stream.Track, i, extra int) *stream.Unit {
	ts := time.Duration(i*1024+extra) * time.Second / 48000

	return &stream.Unit{Track: track, PTS: ts, DTS: ts, Key: true, Payload: []byte{1, 2, 3}}
}

func TestPartListedWithItsLastFrame(t *testing.T) {
	// 250 ms parts of 1024-sample frames at 48 kHz hold 11 frames, and the
	// 1 s segments 47: parts of 11, 11, 11, 11 and 3 frames. Each part is
	// listed, and fetchable, right after the Write of its last frame.
	p, audio := audioOnly(t, 0)

	for i := range 47 {
		p.Write(audioFrame(audio, i))

		want := (i + 1) / 11
		if i == 46 {
			want = 5
		}

		got := listedParts(t, p, "audio", 0)
		if len(got) != want {
			t.Fatalf("after frame %d: %d parts listed %v, want %d", i, len(got), got, want)
		}

		if want > 0 {
			d := "0.23467"
			if i == 46 {
				d = "0.06400"
			}

			if got[want-1] != d {
				t.Errorf("after frame %d: part %d lasts %s, want %s", i, want-1,
					got[want-1], d)
			}
		}
	}

	// The segment's parts are all out: the next part is the next segment's.
	if hint := preloadHint(t, p, "audio"); hint != "part_1_0.m4s" {
		t.Errorf("preload hint %s after the segment's last frame, want part_1_0.m4s", hint)
	}

	for idx, wantSamples := range []int{11, 11, 11, 11, 3} {
		pt := partTrack(t, p, "audio", 0, idx)

		// Decode times start a lead of one second before the first frame.
		if want := uint64(48000 + idx*11*1024); pt.BaseTime != want {
			t.Errorf("part %d: base time %d, want %d", idx, pt.BaseTime, want)
		}

		for _, d := range durations(pt) {
			if d != 1024 || len(pt.Samples) != wantSamples {
				t.Errorf("part %d: durations %v, want %d of 1024", idx, durations(pt),
					wantSamples)

				break
			}
		}
	}
}

func TestPartListedWithItsLastPicture(t *testing.T) {
	// 25 fps with keyframes every 2 s: segments of 50 pictures, parts of 12
	// (0.48 s, the most under 0.5 s) and a last one of 2, each listed right
	// after the Write of its last picture.
	m := packagertest.Make(t, packagertest.Options{Rungs: twoRungs[1:],
		Duration: 4 * time.Second})
	p := &Presentation{}

	err := p.Start(m.Tracks)
	if err != nil {
		t.Fatal(err)
	}

	name := m.Tracks[0].Name

	for i, u := range m.Units[:100] {
		p.Write(u)

		seq, k := uint64(i/50), i%50+1
		want := k / 12
		if k == 50 {
			want = 5
		}

		got := listedParts(t, p, name, seq)
		if len(got) != want {
			t.Fatalf("after picture %d: segment %d lists %d parts %v, want %d", i, seq,
				len(got), got, want)
		}

		if want > 0 {
			d := "0.48000"
			if k == 50 {
				d = "0.08000"
			}

			if got[want-1] != d {
				t.Errorf("after picture %d: part %d.%d lasts %s, want %s", i, seq, want-1,
					got[want-1], d)
			}
		}

		hint := fmt.Sprintf("part_%d_%d.m4s", seq, want)
		if k == 50 {
			hint = fmt.Sprintf("part_%d_0.m4s", seq+1)
		}

		if got := preloadHint(t, p, name); got != hint {
			t.Errorf("after picture %d: preload hint %s, want %s", i, got, hint)
		}
	}

	pt := partTrack(t, p, name, 1, 0)
	if want := uint64(90000 + 50*3600); pt.BaseTime != want || len(pt.Samples) != 12 ||
		pt.Samples[0].IsNonSyncSample {
		t.Errorf("part 1.0: base time %d, want %d; %d samples, first sync %v", pt.BaseTime,
			want, len(pt.Samples), !pt.Samples[0].IsNonSyncSample)
	}
}

func TestPartAfterStrayDecodeTime(t *testing.T) {
	// Part 0.0 ends with frame 10, given its nominal 1024 ticks. Frame 11
	// comes 5 ms (240 ticks) late: part 0.0 keeps its bytes, part 0.1 starts
	// at frame 11's true decode time, and the rendition, no longer trusted
	// to keep its rate, lists part 0.1 only once the frame after its last
	// has come, until the frames have kept the rate for a segment.
	p, audio := audioOnly(t, 0)

	for i := range 11 {
		p.Write(audioFrame(audio, i))
	}

	if got := listedParts(t, p, "audio", 0); len(got) != 1 {
		t.Fatalf("after frame 10: parts %v, want one", got)
	}

	for i := 11; i < 22; i++ {
		p.Write(shiftedFrame(audio, i, 240))
	}

	if got := listedParts(t, p, "audio", 0); len(got) != 1 {
		t.Errorf("after frame 21, a stray rendition lists parts %v, want one", got)
	}

	// A segment's worth of frames at the rate later, parts are listed with
	// their last frame again: the newest part ends with the frame just
	// written, not the one before.
	r := p.byName["audio"]
	rearmed := 0

	for i := 22; i < 100; i++ {
		msn, idx, _ := r.lastPart()

		p.Write(shiftedFrame(audio, i, 240))

		pt := newestPart(r)
		if m, x, _ := r.lastPart(); m == msn && x == idx {
			continue
		}

		end := uint64(48000 + (i+1)*1024 + 240)

		if i < 11+47 && pt.start+pt.duration == end {
			t.Errorf("a part ends with frame %d, before the rate was kept for a segment", i)
		}

		if i >= 11+47+11 && pt.start+pt.duration != end {
			t.Errorf("a part ends at %d, not with frame %d at %d", pt.start+pt.duration, i,
				end)
		}

		if pt.start+pt.duration == end {
			rearmed++
		}
	}

	if rearmed == 0 {
		t.Error("no part was listed with its last frame after the rate came back")
	}

	first, second := partTrack(t, p, "audio", 0, 0), partTrack(t, p, "audio", 0, 1)

	if first.BaseTime != 48000 || len(first.Samples) != 11 || first.Samples[10].Duration != 1024 {
		t.Errorf("part 0.0: base time %d, durations %v", first.BaseTime, durations(first))
	}

	if want := uint64(48000 + 11*1024 + 240); second.BaseTime != want {
		t.Errorf("part 0.1: base time %d, want frame 11's %d", second.BaseTime, want)
	}

	// Every segment spans to the next one's start, so that playlists and the
	// DASH timeline stay on the decode times.
	if len(r.segments) < 2 {
		t.Fatalf("%d segments", len(r.segments))
	}

	for i, s := range r.segments[:len(r.segments)-1] {
		if next := r.segments[i+1]; s.start+s.duration != next.start {
			t.Errorf("segment %d: %d + %d ends before or after segment %d at %d", s.seq,
				s.start, s.duration, next.seq, next.start)
		}
	}
}

func TestPartSettlesJitter(t *testing.T) {
	// Frame 5 comes 10 ticks late, within the millisecond a rendition may
	// stray: frame 4, still in the open part, takes its true 1034 ticks, and
	// parts are still listed with their last frame.
	p, audio := audioOnly(t, 0)

	for i := range 11 {
		extra := 0
		if i >= 5 {
			extra = 10
		}

		p.Write(shiftedFrame(audio, i, extra))
	}

	got := listedParts(t, p, "audio", 0)
	if len(got) != 1 || got[0] != "0.23488" {
		t.Fatalf("after frame 10: parts %v, want one of 0.23488 s", got)
	}

	pt := partTrack(t, p, "audio", 0, 0)
	want := []uint32{1024, 1024, 1024, 1024, 1034, 1024, 1024, 1024, 1024, 1024, 1024}

	if d := durations(pt); !slices.Equal(d, want) {
		t.Errorf("part 0.0 durations %v, want %v", d, want)
	}
}

// newestPart returns r's last part.
func newestPart(r *rendition) *part {
	msn, idx, ok := r.lastPart()
	if !ok {
		return nil
	}

	if r.open && msn == r.nextSeq {
		return r.parts[idx]
	}

	return r.segmentBySeq(msn).parts[idx]
}

var hintRE = regexp.MustCompile(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="[0-9a-f]+/([^"]+)"`)

// preloadHint returns the part the preload hint of rendition name names.
func preloadHint(t *testing.T, p *Presentation, name string) string {
	t.Helper()

	pl, err := p.LowLatencyPlaylist(name)
	if err != nil {
		t.Fatal(err)
	}

	m := hintRE.FindSubmatch(pl)
	if m == nil {
		t.Fatalf("no preload hint:\n%s", pl)
	}

	return string(m[1])
}
