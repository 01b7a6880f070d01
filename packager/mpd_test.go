package packager

import (
	"encoding/xml"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/onair/onair/packager/packagertest"
)

// parsedMPD is what the tests read back from an MPD with encoding/xml.
type parsedMPD struct {
	XMLName   xml.Name `xml:"urn:mpeg:dash:schema:mpd:2011 MPD"`
	Type      string   `xml:"type,attr"`
	Profiles  string   `xml:"profiles,attr"`
	AST       string   `xml:"availabilityStartTime,attr"`
	Publish   string   `xml:"publishTime,attr"`
	Duration  string   `xml:"mediaPresentationDuration,attr"`
	MinUpdate string   `xml:"minimumUpdatePeriod,attr"`
	TimeShift string   `xml:"timeShiftBufferDepth,attr"`
	Delay     string   `xml:"suggestedPresentationDelay,attr"`
	MinBuffer string   `xml:"minBufferTime,attr"`
	UTCTiming struct {
		Scheme string `xml:"schemeIdUri,attr"`
		Value  string `xml:"value,attr"`
	} `xml:"UTCTiming"`
	Sets []struct {
		ContentType string `xml:"contentType,attr"`
		MimeType    string `xml:"mimeType,attr"`
		Reps        []struct {
			ID        string `xml:"id,attr"`
			Codecs    string `xml:"codecs,attr"`
			Bandwidth int    `xml:"bandwidth,attr"`
			Width     int    `xml:"width,attr"`
			Height    int    `xml:"height,attr"`
			FrameRate string `xml:"frameRate,attr"`
			Rate      int    `xml:"audioSamplingRate,attr"`
			Template  struct {
				Timescale uint32 `xml:"timescale,attr"`
				Init      string `xml:"initialization,attr"`
				Media     string `xml:"media,attr"`
				Start     uint64 `xml:"startNumber,attr"`
				S         []struct {
					T *uint64 `xml:"t,attr"`
					D uint64  `xml:"d,attr"`
					R int     `xml:"r,attr"`
				} `xml:"SegmentTimeline>S"`
			} `xml:"SegmentTemplate"`
		} `xml:"Representation"`
	} `xml:"Period>AdaptationSet"`
}

func parseMPD(t *testing.T, p *Presentation) *parsedMPD {
	t.Helper()

	data, err := p.MPD("../../time")
	if err != nil {
		t.Fatal(err)
	}

	var doc parsedMPD

	err = xml.Unmarshal(data, &doc)
	if err != nil {
		t.Fatalf("mpd does not parse: %v\n%s", err, data)
	}

	return &doc
}

func TestMPD(t *testing.T) {
	m := packagertest.Make(t, packagertest.Options{Rungs: twoRungs, Audio: true,
		Duration: 9 * time.Second})
	p := &Presentation{Window: 3}

	err := p.Start(m.Tracks)
	if err != nil {
		t.Fatal(err)
	}

	if _, err := p.MPD(""); !errors.Is(err, ErrNotFound) {
		t.Errorf("MPD before any segment = %v, want ErrNotFound", err)
	}

	half := len(m.Units) / 2
	for _, u := range m.Units[:half] {
		p.Write(u)
	}

	early := parseMPD(t, p)

	for _, u := range m.Units[half:] {
		p.Write(u)
	}

	live := parseMPD(t, p)
	playlists := map[string][]byte{}

	for _, name := range []string{"360p", "180p", "audio"} {
		playlists[name], _ = p.MediaPlaylist(name)
	}

	p.End()
	ended := parseMPD(t, p)

	if early.AST == "" || early.AST != live.AST || live.AST != ended.AST {
		t.Errorf("availabilityStartTime moved: %q, %q, %q", early.AST, live.AST, ended.AST)
	}

	attrs := []struct{ name, got, want string }{
		{"type", live.Type, "dynamic"},
		{"profiles", live.Profiles, mpdProfiles},
		{"minimumUpdatePeriod", live.MinUpdate, "PT2S"},
		{"timeShiftBufferDepth", live.TimeShift, "PT6S"},
		{"suggestedPresentationDelay", live.Delay, "PT6S"},
		{"minBufferTime", live.MinBuffer, "PT2S"},
		{"UTCTiming scheme", live.UTCTiming.Scheme, "urn:mpeg:dash:utc:http-iso:2014"},
		{"UTCTiming value", live.UTCTiming.Value, "../../time"},
		{"ended type", ended.Type, "static"},
		{"ended minimumUpdatePeriod", ended.MinUpdate, ""},
	}

	for _, a := range attrs {
		if a.got != a.want {
			t.Errorf("%s = %q, want %q", a.name, a.got, a.want)
		}
	}

	if !strings.HasPrefix(ended.Duration, "PT") || ended.Duration == "PT0S" {
		t.Errorf("ended mediaPresentationDuration = %q", ended.Duration)
	}

	if len(live.Sets) != 2 || live.Sets[0].ContentType != "video" ||
		live.Sets[1].ContentType != "audio" {
		t.Fatalf("adaptation sets: %+v", live.Sets)
	}

	for _, set := range live.Sets {
		for _, rep := range set.Reps {
			checkRepresentation(t, p, set.MimeType, rep.ID, rep.Codecs, rep.Bandwidth,
				fmt.Sprintf("%dx%d@%s", rep.Width, rep.Height, rep.FrameRate), rep.Rate)

			// The timeline is the listed segments, in the same numbers as
			// HLS: the media playlist's window.
			tpl := rep.Template
			pl := playlists[rep.ID]
			n := 0

			for i, s := range tpl.S {
				if i == 0 && s.T == nil {
					t.Errorf("%s: first S without t", rep.ID)
				}

				n += 1 + s.R
			}

			if n != 3 || !strings.Contains(string(pl),
				fmt.Sprintf("#EXT-X-MEDIA-SEQUENCE:%d\n", tpl.Start)) {
				t.Errorf("%s: %d timeline segments from %d; playlist\n%s", rep.ID, n,
					tpl.Start, pl)
			}

			media := strings.ReplaceAll(tpl.Media, "$Number$", fmt.Sprint(tpl.Start))
			if _, err := p.Open(media); err != nil {
				t.Errorf("%s: first segment %s: %v", rep.ID, media, err)
			}

			if _, err := p.Open(tpl.Init); err != nil {
				t.Errorf("%s: init %s: %v", rep.ID, tpl.Init, err)
			}
		}
	}
}

// checkRepresentation compares a Representation with its rendition.
func checkRepresentation(t *testing.T, p *Presentation, mime, id, codecs string, bandwidth int,
	picture string, rate int) {
	t.Helper()

	p.mu.Lock()
	r := p.byName[id]
	p.mu.Unlock()

	if r == nil {
		t.Fatalf("representation %q has no rendition", id)
	}

	want := fmt.Sprintf("%dx%d@%s", r.width, r.height, frameRate(r.frameRate))
	if !r.video {
		want = "0x0@"
	}

	if codecs != r.codecs || bandwidth <= 0 || picture != want ||
		(!r.video && rate != 48000) || (mime == "video/mp4") != r.video {
		t.Errorf("representation %s: %s %s %d %s %d; rendition %s %s", id, mime, codecs,
			bandwidth, picture, rate, r.codecs, want)
	}

	if r.video && (r.width == 0 || frameRate(r.frameRate) != "25") {
		t.Errorf("rendition %s: %dx%d at %v fps", id, r.width, r.height, r.frameRate)
	}
}

func TestFrameRate(t *testing.T) {
	tests := []struct {
		fps  float64
		want string
	}{
		{25, "25"},
		{24, "24"},
		{12.5, "25/2"},
		{29.97, "30000/1001"},
		{23.976, "24000/1001"},
		{59.94, "60000/1001"},
		{0, ""},
		{7.3, "7300/1000"},
	}

	for _, tt := range tests {
		if got := frameRate(tt.fps); got != tt.want {
			t.Errorf("frameRate(%v) = %q, want %q", tt.fps, got, tt.want)
		}
	}
}

func TestTimeline(t *testing.T) {
	tests := []struct {
		name     string
		segments [][2]uint64 // start, duration
		want     string
	}{
		{"runs", [][2]uint64{{10, 5}, {15, 5}, {20, 5}, {25, 4}}, "t10d5r2 d4"},
		{"gap", [][2]uint64{{10, 5}, {30, 5}, {35, 5}}, "t10d5 t30d5r1"},
		{"alternating", [][2]uint64{{0, 3}, {3, 4}, {7, 3}}, "t0d3 d4 d3"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var segs []*segment
			for _, s := range tt.segments {
				segs = append(segs, &segment{start: s[0], duration: s[1]})
			}

			var out []string

			for _, s := range timeline(segs) {
				e := ""
				if s.T != nil {
					e = fmt.Sprintf("t%d", *s.T)
				}

				e += fmt.Sprintf("d%d", s.D)
				if s.R > 0 {
					e += fmt.Sprintf("r%d", s.R)
				}

				out = append(out, e)
			}

			if got := strings.Join(out, " "); got != tt.want {
				t.Errorf("timeline = %q, want %q", got, tt.want)
			}
		})
	}
}
