package delivery

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"math"
	"net/url"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// testMPD is the part of an MPD (ISO/IEC 23009-1 5.3) the tests read.
type testMPD struct {
	Type                       string `xml:"type,attr"`
	Profiles                   string `xml:"profiles,attr"`
	AvailabilityStartTime      string `xml:"availabilityStartTime,attr"`
	PublishTime                string `xml:"publishTime,attr"`
	MediaPresentationDuration  string `xml:"mediaPresentationDuration,attr"`
	MinimumUpdatePeriod        string `xml:"minimumUpdatePeriod,attr"`
	TimeShiftBufferDepth       string `xml:"timeShiftBufferDepth,attr"`
	SuggestedPresentationDelay string `xml:"suggestedPresentationDelay,attr"`
	MinBufferTime              string `xml:"minBufferTime,attr"`
	UTCTiming                  []struct {
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
			Template  struct {
				Timescale   uint64 `xml:"timescale,attr"`
				Init        string `xml:"initialization,attr"`
				Media       string `xml:"media,attr"`
				StartNumber uint64 `xml:"startNumber,attr"`
				Offset      uint64 `xml:"presentationTimeOffset,attr"`
				S           []struct {
					T *uint64 `xml:"t,attr"`
					D uint64  `xml:"d,attr"`
					R int     `xml:"r,attr"`
				} `xml:"SegmentTimeline>S"`
			} `xml:"SegmentTemplate"`
		} `xml:"Representation"`
	} `xml:"Period>AdaptationSet"`
}

// mpdSegment is one segment a SegmentTimeline lists.
type mpdSegment struct {
	number     uint64
	start, dur uint64
}

// fetchMPD gets and parses the MPD.
func fetchMPD(t *testing.T, l *liveTest) *testMPD {
	t.Helper()

	code, hdr, body := get(t, l.base+"video.mpd")
	if code != 200 || hdr.Get("Content-Type") != "application/dash+xml" {
		t.Fatalf("mpd: status %d, type %q: %s", code, hdr.Get("Content-Type"), body)
	}

	var m testMPD

	err := xml.Unmarshal(body, &m)
	if err != nil {
		t.Fatalf("mpd: %v\n%s", err, body)
	}

	return &m
}

// xsDur parses the xs:duration the MPD writes, PTnS.
func xsDur(t *testing.T, s string) time.Duration {
	t.Helper()

	if !strings.HasPrefix(s, "PT") || !strings.HasSuffix(s, "S") {
		t.Fatalf("duration %q is not PTnS", s)
	}

	return time.Duration(seconds(t, s[2:len(s)-1]) * float64(time.Second))
}

// segments expands a SegmentTimeline.
func (m *testMPD) segments(set, rep int) []mpdSegment {
	tpl := m.Sets[set].Reps[rep].Template

	var out []mpdSegment

	n, at := tpl.StartNumber, uint64(0)

	for _, s := range tpl.S {
		if s.T != nil {
			at = *s.T
		}

		for range s.R + 1 {
			out = append(out, mpdSegment{number: n, start: at, dur: s.D})
			n++
			at += s.D
		}
	}

	return out
}

func TestOriginDASH(t *testing.T) {
	l := newLiveOrigin(t, 6*time.Second, 3, 0)
	l.writeUntil(2500 * time.Millisecond)

	first := fetchMPD(t, l)
	l.writeUntil(5500 * time.Millisecond)
	m := fetchMPD(t, l)

	if m.Type != "dynamic" || !strings.Contains(m.Profiles, "isoff-live") {
		t.Fatalf("live MPD type %q profiles %q, want dynamic isoff-live", m.Type, m.Profiles)
	}

	// The anchor of every segment's wall time stays for the broadcast.
	if m.AvailabilityStartTime == "" || m.AvailabilityStartTime != first.AvailabilityStartTime {
		t.Errorf("availabilityStartTime %q, then %q: want one constant value",
			first.AvailabilityStartTime, m.AvailabilityStartTime)
	}

	if _, err := time.Parse(time.RFC3339, m.AvailabilityStartTime); err != nil {
		t.Errorf("availabilityStartTime: %v", err)
	}

	checkUTCTiming(t, l, m)

	codecs := variantCodecs(t, l)
	want := map[string]string{"360p": "640x360", "180p": "320x180"}

	if len(m.Sets) != 2 || m.Sets[0].ContentType != "video" || m.Sets[1].ContentType != "audio" {
		t.Fatalf("adaptation sets %+v, want one video and one audio", m.Sets)
	}

	for i, set := range m.Sets {
		for j, rep := range set.Reps {
			switch {
			case set.ContentType == "audio" && rep.Codecs != "mp4a.40.2":
				t.Errorf("audio codecs %q, want mp4a.40.2", rep.Codecs)
			case set.ContentType == "video" && rep.Codecs != codecs[rep.ID]:
				t.Errorf("%s codecs %q, the HLS variant says %q", rep.ID, rep.Codecs,
					codecs[rep.ID])
			case set.ContentType == "video" &&
				strconv.Itoa(rep.Width)+"x"+strconv.Itoa(rep.Height) != want[rep.ID]:
				t.Errorf("%s is %dx%d, want %s", rep.ID, rep.Width, rep.Height, want[rep.ID])
			case set.ContentType == "video" && rep.FrameRate != "25":
				t.Errorf("%s frameRate %q, want 25", rep.ID, rep.FrameRate)
			}

			checkRepresentation(t, l, m, i, j)
		}
	}

	if len(m.Sets[0].Reps) != 2 || len(m.Sets[1].Reps) != 1 {
		t.Errorf("%d video and %d audio representations, want 2 and 1", len(m.Sets[0].Reps),
			len(m.Sets[1].Reps))
	}

	checkLiveTimes(t, m)
}

// variantCodecs returns the video codec of each rung in the HLS
// multivariant playlist.
func variantCodecs(t *testing.T, l *liveTest) map[string]string {
	t.Helper()

	_, _, body := get(t, l.base+"video.m3u8")
	lines := parseM3U8(t, string(body))
	out := map[string]string{}

	for i, line := range lines {
		if line.tag == "#EXT-X-STREAM-INF" && i+1 < len(lines) {
			name, _, _ := strings.Cut(lines[i+1].value, "/")
			out[name], _, _ = strings.Cut(line.attrs["CODECS"], ",")
		}
	}

	return out
}

// checkUTCTiming checks that the MPD's clock, resolved against the MPD's
// URL, is the origin's and tells the time.
func checkUTCTiming(t *testing.T, l *liveTest, m *testMPD) {
	t.Helper()

	if len(m.UTCTiming) != 1 || m.UTCTiming[0].Scheme != "urn:mpeg:dash:utc:http-iso:2014" {
		t.Fatalf("UTCTiming %+v, want one http-iso", m.UTCTiming)
	}

	mpdURL, _ := url.Parse(l.base + "video.mpd")
	ref, err := url.Parse(m.UTCTiming[0].Value)
	if err != nil {
		t.Fatal(err)
	}

	clockURL := mpdURL.ResolveReference(ref)
	if clockURL.Host != mpdURL.Host || clockURL.Path != ClockPath {
		t.Fatalf("UTCTiming %q resolves to %s, want the origin's %s", m.UTCTiming[0].Value,
			clockURL, ClockPath)
	}

	before := time.Now()
	code, hdr, body := get(t, clockURL.String())
	after := time.Now()

	now, err := time.Parse("2006-01-02T15:04:05.000Z", string(body))
	if code != 200 || err != nil || hdr.Get("Cache-Control") != errorCache {
		t.Fatalf("clock: status %d, %q (%v), Cache-Control %q", code, body, err,
			hdr.Get("Cache-Control"))
	}

	// The clock's milliseconds lie between the request and its answer.
	if now.Before(before.Truncate(time.Millisecond)) || now.After(after) {
		t.Errorf("clock says %v, asked between %v and %v", now, before, after)
	}
}

// checkRepresentation fetches a representation's init and every segment its
// timeline lists: each is there, and none carries more bits per second
// than bandwidth declares.
func checkRepresentation(t *testing.T, l *liveTest, m *testMPD, set, rep int) {
	t.Helper()

	r := m.Sets[set].Reps[rep]
	tpl := r.Template

	code, _, body := get(t, l.base+tpl.Init)
	if code != 200 || !bytes.Contains(body, []byte("ftyp")) {
		t.Errorf("%s init %s: status %d", r.ID, tpl.Init, code)
	}

	segs := m.segments(set, rep)
	if len(segs) == 0 {
		t.Fatalf("%s: empty SegmentTimeline", r.ID)
	}

	for i, s := range segs {
		uri := strings.ReplaceAll(tpl.Media, "$Number$", strconv.FormatUint(s.number, 10))

		code, _, body := get(t, l.base+uri)
		if code != 200 || !bytes.Contains(body, []byte("moof")) {
			t.Errorf("%s segment %s: status %d", r.ID, uri, code)

			continue
		}

		if i > 0 && s.start != segs[i-1].start+segs[i-1].dur {
			t.Errorf("%s segment %d starts at %d, not where %d ends", r.ID, s.number, s.start,
				segs[i-1].number)
		}

		secs := float64(s.dur) / float64(tpl.Timescale)
		if bps := float64(len(body)*8) / secs; secs >= 0.5 && bps > float64(r.Bandwidth) {
			t.Errorf("%s segment %d: %.0f bit/s over %.2f s, above bandwidth %d", r.ID,
				s.number, bps, secs, r.Bandwidth)
		}
	}
}

// checkLiveTimes checks that the update period, time-shift buffer and
// presentation delay agree with the segments a live MPD lists.
func checkLiveTimes(t *testing.T, m *testMPD) {
	t.Helper()

	segs := m.segments(0, 0)
	ts := float64(m.Sets[0].Reps[0].Template.Timescale)

	var longest, span time.Duration

	for _, s := range segs {
		d := time.Duration(float64(s.dur) / ts * float64(time.Second))
		longest = max(longest, d)
		span += d
	}

	update := xsDur(t, m.MinimumUpdatePeriod)
	depth := xsDur(t, m.TimeShiftBufferDepth)
	delay := xsDur(t, m.SuggestedPresentationDelay)

	// A player reloads at least once a segment, so it learns of each.
	if update <= 0 || update > longest {
		t.Errorf("minimumUpdatePeriod %v, want (0, %v]", update, longest)
	}

	// The time-shift buffer is what the timeline lists, within a segment.
	if diff := depth - span; diff.Abs() > longest {
		t.Errorf("timeShiftBufferDepth %v, the timeline lists %v", depth, span)
	}

	// A player holding back the suggested delay plays inside the buffer.
	if delay < longest || delay > depth {
		t.Errorf("suggestedPresentationDelay %v, want [%v, %v]", delay, longest, depth)
	}

	if m.MediaPresentationDuration != "" {
		t.Errorf("live MPD has mediaPresentationDuration %q", m.MediaPresentationDuration)
	}
}

func TestOriginDASHEnded(t *testing.T) {
	l := newLiveOrigin(t, 3*time.Second, 6, 0)
	l.writeUntil(time.Hour)

	live := fetchMPD(t, l)
	l.p.End()
	m := fetchMPD(t, l)

	if live.Type != "dynamic" || m.Type != "static" {
		t.Fatalf("type %q while live and %q after the end, want dynamic then static",
			live.Type, m.Type)
	}

	if m.MinimumUpdatePeriod != "" || m.TimeShiftBufferDepth != "" ||
		m.SuggestedPresentationDelay != "" {
		t.Errorf("static MPD keeps live attributes: %+v", m)
	}

	// The presentation lasts what the timeline lists, from its first segment.
	segs := m.segments(0, 0)
	tpl := m.Sets[0].Reps[0].Template
	last := segs[len(segs)-1]
	span := float64(last.start+last.dur-tpl.Offset) / float64(tpl.Timescale)

	if got := xsDur(t, m.MediaPresentationDuration).Seconds(); math.Abs(got-span) > 0.05 {
		t.Errorf("mediaPresentationDuration %vs, the timeline spans %vs", got, span)
	}

	if segs[0].start != tpl.Offset {
		t.Errorf("first segment at %d, presentationTimeOffset %d", segs[0].start, tpl.Offset)
	}

	out, err := exec.Command("ffprobe", "-v", "error", "-show_streams", "-of", "json",
		l.base+"video.mpd").Output()
	if err != nil {
		t.Fatalf("ffprobe of the static MPD: %v", err)
	}

	var probe struct {
		Streams []struct {
			CodecName string `json:"codec_name"`
			Height    int    `json:"height"`
		}
	}

	if err := json.Unmarshal(out, &probe); err != nil {
		t.Fatal(err)
	}

	got := map[string]bool{}
	for _, s := range probe.Streams {
		got[s.CodecName+strconv.Itoa(s.Height)] = true
	}

	for _, want := range []string{"h264360", "h264180", "aac0"} {
		if !got[want] {
			t.Errorf("ffprobe found no %s in %s", want, out)
		}
	}
}
