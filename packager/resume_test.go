package packager

import (
	"bytes"
	"encoding/xml"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/onair/onair/packager/packagertest"
)

// TestPauseResume carries a presentation over a publisher that leaves and
// comes back: the live playlist goes on after one discontinuity with a new
// init segment and rising media sequence numbers, the MPD opens a second
// Period, and the recording is one video that plays both broadcasts.
func TestPauseResume(t *testing.T) {
	const clip = 3 * time.Second

	opts := packagertest.Options{Rungs: twoRungs[1:], Audio: true, Duration: clip,
		KeyInterval: time.Second}
	first, second := packagertest.Make(t, opts), packagertest.Make(t, opts)

	k := &keeper{}
	p := &Presentation{SegmentDuration: time.Second, Window: 20, Recorder: k}
	feed(t, p, first, nil)
	p.Pause()

	paused, _ := p.MediaPlaylist("180p")
	if bytes.Contains(paused, []byte("#EXT-X-ENDLIST")) {
		t.Fatalf("paused playlist ended:\n%s", paused)
	}

	before := len(regexp.MustCompile(`seg_\d+\.m4s`).FindAll(paused, -1))

	if err := p.Resume(second.Tracks); err != nil {
		t.Fatal(err)
	}

	for _, u := range second.Units {
		p.Write(u)
	}

	p.End()

	pl, _ := p.MediaPlaylist("180p")
	text := string(pl)

	seqs := regexp.MustCompile(`seg_(\d+)\.m4s`).FindAllStringSubmatch(text, -1)
	for i, m := range seqs {
		if m[1] != itoa(i) {
			t.Fatalf("segment %d is seg_%s: media sequence numbers do not rise by one:\n%s",
				i, m[1], text)
		}
	}

	if n := strings.Count(text, "#EXT-X-DISCONTINUITY\n"); n != 1 || len(seqs) <= before {
		t.Errorf("%d discontinuities, %d segments (%d before the pause), want 1 and more:\n%s",
			n, len(seqs), before, text)
	}

	if n := strings.Count(text, "#EXT-X-MAP"); n != 2 {
		t.Errorf("%d EXT-X-MAP, want one per broadcast:\n%s", n, text)
	}

	checkPeriods(t, p, 2)

	want := 2 * clip.Seconds()
	if d := probedDuration(t, serve(t, p)+"video.m3u8"); math.Abs(d-want) > 2 {
		t.Errorf("live presentation plays %.3f s of two %v broadcasts", d, clip)
	}

	rec, err := Recorded(k.renditions(), &k.store)
	if err != nil {
		t.Fatal(err)
	}

	recorded, _ := rec.MediaPlaylist("180p")
	if !bytes.Equal(bytes.ReplaceAll(recorded, []byte("\n"), nil),
		bytes.ReplaceAll(pl, []byte("\n"), nil)) {
		t.Errorf("recorded playlist differs from the live one:\n%s\nlive:\n%s", recorded, pl)
	}

	checkPeriods(t, rec, 2)

	// FFmpeg's DASH reader plays one Period; its HLS reader plays across the
	// discontinuity.
	if d := probedDuration(t, serve(t, rec)+"video.m3u8"); math.Abs(d-want) > 2 {
		t.Errorf("recording plays %.3f s of two %v broadcasts", d, clip)
	}

	probe(t, serve(t, rec)+"video.mpd")
}

// checkPeriods checks that p's MPD has n Periods, each with every rendition
// and rising starts.
func checkPeriods(t *testing.T, p *Presentation, n int) {
	t.Helper()

	data, err := p.MPD("")
	if err != nil {
		t.Fatal(err)
	}

	var doc struct {
		Periods []struct {
			ID    string `xml:"id,attr"`
			Start string `xml:"start,attr"`
			Sets  []struct {
				Reps []struct {
					ID string `xml:"id,attr"`
				} `xml:"Representation"`
			} `xml:"AdaptationSet"`
		} `xml:"Period"`
	}

	if err := xml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}

	if len(doc.Periods) != n {
		t.Fatalf("MPD has %d periods, want %d:\n%s", len(doc.Periods), n, data)
	}

	for i, per := range doc.Periods {
		if per.ID != itoa(i) || len(per.Sets) != 2 {
			t.Errorf("period %d: id %q, %d adaptation sets:\n%s", i, per.ID, len(per.Sets), data)
		}
	}

	if doc.Periods[0].Start != "PT0S" || doc.Periods[1].Start <= "PT0S" {
		t.Errorf("period starts %q, %q", doc.Periods[0].Start, doc.Periods[1].Start)
	}
}

func itoa(n int) string {
	return strconv.Itoa(n)
}
