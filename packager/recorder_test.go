package packager

import (
	"bytes"
	"math"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/onair/onair/packager/packagertest"
)

// keeper is a Recorder that keeps everything in a MemoryStore, under the
// keys of the live presentation, and the index in memory.
type keeper struct {
	store  MemoryStore
	order  []string
	byName map[string]*RecordedRendition
}

func (k *keeper) RecordInit(info RenditionInfo, init []byte) {
	if k.byName == nil {
		k.byName = map[string]*RecordedRendition{}
	}

	rr := k.byName[info.Name]
	if rr == nil {
		rr = &RecordedRendition{Inits: map[string][]byte{}}
		k.byName[info.Name] = rr
		k.order = append(k.order, info.Name)
	}

	rr.Info = info
	rr.Inits[info.Session] = init
}

func (k *keeper) RecordSegment(name string, seg SegmentInfo, data []byte) {
	rr := k.byName[name]
	rr.Segments = append(rr.Segments, seg)
	k.store.Put(name+"/"+seg.Session+"/"+segmentURI(seg.Seq), bytes.Clone(data))
}

func (k *keeper) renditions() []RecordedRendition {
	var out []RecordedRendition
	for _, name := range k.order {
		out = append(out, *k.byName[name])
	}

	return out
}

// TestRecordedPresentation records a broadcast longer than the live window
// and plays the recording: every segment the live presentation finished,
// with the same bytes, an ended playlist and a static MPD that ffprobe reads
// for the whole duration.
func TestRecordedPresentation(t *testing.T) {
	const clip = 7 * time.Second

	m := packagertest.Make(t, packagertest.Options{Rungs: twoRungs[1:], Audio: true,
		Duration: clip, KeyInterval: time.Second})
	k := &keeper{}
	live := &Presentation{SegmentDuration: time.Second, Window: 2, Recorder: k}

	err := live.Start(m.Tracks)
	if err != nil {
		t.Fatal(err)
	}

	seen := map[string][]byte{}

	for _, u := range m.Units {
		live.Write(u)

		for _, name := range []string{"180p", "audio"} {
			pl, _ := live.MediaPlaylist(name)
			for _, line := range strings.Split(string(pl), "\n") {
				if strings.HasSuffix(line, segmentSuffix) && seen[name+"/"+line] == nil {
					data, err := live.Open(name + "/" + line)
					if err == nil {
						seen[name+"/"+line] = data.Data
					}
				}
			}
		}
	}

	live.End()

	rec, err := Recorded(k.renditions(), &k.store)
	if err != nil {
		t.Fatal(err)
	}

	pl, err := rec.MediaPlaylist("180p")
	if err != nil {
		t.Fatal(err)
	}

	if !bytes.Contains(pl, []byte("#EXT-X-ENDLIST")) ||
		!bytes.Contains(pl, []byte("#EXT-X-MEDIA-SEQUENCE:0\n")) {
		t.Errorf("recorded playlist not ended or not from segment 0:\n%s", pl)
	}

	var total float64
	for _, s := range k.byName["180p"].Segments {
		total += float64(s.Duration) / videoTimescale
	}

	if math.Abs(total-clip.Seconds()) > 1 {
		t.Errorf("recorded %.3f s of video, published %v", total, clip)
	}

	// The live playlists' segments are the recording's, byte for byte.
	for uri, data := range seen {
		res, err := rec.Open(uri)
		if err != nil || !bytes.Equal(res.Data, data) {
			t.Errorf("recorded %s differs from live (%v)", uri, err)
		}
	}

	mpd, err := rec.MPD("")
	if err != nil || !bytes.Contains(mpd, []byte(`type="static"`)) {
		t.Fatalf("recorded MPD (%v):\n%s", err, mpd)
	}

	base := serve(t, rec)
	for _, url := range []string{base + "video.m3u8", base + "video.mpd"} {
		if got := probedDuration(t, url); math.Abs(got-clip.Seconds()) > 1 {
			t.Errorf("%s lasts %.3f s, published %v", url, got, clip)
		}
	}
}

// probedDuration decodes every stream url lists and returns the duration
// ffprobe reads.
func probedDuration(t *testing.T, url string) float64 {
	t.Helper()

	probe(t, url)

	out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "format=duration",
		"-of", "default=nw=1:nk=1", url).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", url, err)
	}

	d, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	if err != nil {
		t.Fatalf("ffprobe duration of %s: %q", url, out)
	}

	return d
}
