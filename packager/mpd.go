package packager

import (
	"encoding/xml"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"
)

// MPDName is the file name delivery serves the DASH MPD under, beside the
// multivariant playlist, so that both reach the same init and segment URIs.
const MPDName = "video.mpd"

// DASH identifiers (ISO/IEC 23009-1).
const (
	mpdNamespace    = "urn:mpeg:dash:schema:mpd:2011"
	mpdProfiles     = "urn:mpeg:dash:profile:isoff-live:2011,urn:mpeg:dash:profile:cmaf:2019"
	utcTimingScheme = "urn:mpeg:dash:utc:http-iso:2014"
	channelScheme   = "urn:mpeg:dash:23003:3:audio_channel_configuration:2011"

	// presentationDelaySegments is suggestedPresentationDelay in segments:
	// the three target durations HLS players hold back (RFC 8216 6.3.3).
	presentationDelaySegments = 3
)

// mpdDoc is the MPD element (ISO/IEC 23009-1 5.3.1.2).
type mpdDoc struct {
	XMLName                    xml.Name       `xml:"MPD"`
	Xmlns                      string         `xml:"xmlns,attr"`
	Profiles                   string         `xml:"profiles,attr"`
	Type                       string         `xml:"type,attr"`
	AvailabilityStartTime      string         `xml:"availabilityStartTime,attr,omitempty"`
	PublishTime                string         `xml:"publishTime,attr"`
	MediaPresentationDuration  string         `xml:"mediaPresentationDuration,attr,omitempty"`
	MinimumUpdatePeriod        string         `xml:"minimumUpdatePeriod,attr,omitempty"`
	TimeShiftBufferDepth       string         `xml:"timeShiftBufferDepth,attr,omitempty"`
	SuggestedPresentationDelay string         `xml:"suggestedPresentationDelay,attr,omitempty"`
	MinBufferTime              string         `xml:"minBufferTime,attr"`
	Periods                    []mpdPeriod    `xml:"Period"`
	UTCTiming                  *mpdDescriptor `xml:"UTCTiming,omitempty"`
}

type mpdPeriod struct {
	ID             string             `xml:"id,attr"`
	Start          string             `xml:"start,attr"`
	AdaptationSets []mpdAdaptationSet `xml:"AdaptationSet"`
}

type mpdAdaptationSet struct {
	ID               int                 `xml:"id,attr"`
	ContentType      string              `xml:"contentType,attr"`
	MimeType         string              `xml:"mimeType,attr"`
	SegmentAlignment bool                `xml:"segmentAlignment,attr"`
	StartWithSAP     int                 `xml:"startWithSAP,attr"`
	Representations  []mpdRepresentation `xml:"Representation"`
}

type mpdRepresentation struct {
	ID                string         `xml:"id,attr"`
	Codecs            string         `xml:"codecs,attr"`
	Bandwidth         int            `xml:"bandwidth,attr"`
	Width             int            `xml:"width,attr,omitempty"`
	Height            int            `xml:"height,attr,omitempty"`
	FrameRate         string         `xml:"frameRate,attr,omitempty"`
	AudioSamplingRate int            `xml:"audioSamplingRate,attr,omitempty"`
	Channels          *mpdDescriptor `xml:"AudioChannelConfiguration,omitempty"`
	SegmentTemplate   mpdSegTemplate `xml:"SegmentTemplate"`
}

type mpdDescriptor struct {
	SchemeIDURI string `xml:"schemeIdUri,attr"`
	Value       string `xml:"value,attr"`
}

type mpdSegTemplate struct {
	Timescale              uint32 `xml:"timescale,attr"`
	Initialization         string `xml:"initialization,attr"`
	Media                  string `xml:"media,attr"`
	StartNumber            uint64 `xml:"startNumber,attr"`
	PresentationTimeOffset uint64 `xml:"presentationTimeOffset,attr"`
	Timeline               []mpdS `xml:"SegmentTimeline>S"`
}

// mpdS is one S element: d long segments from t, repeated r more times.
type mpdS struct {
	T *uint64 `xml:"t,attr"`
	D uint64  `xml:"d,attr"`
	R int     `xml:"r,attr,omitempty"`
}

// MPD returns the DASH MPD over the same init and media segments as the HLS
// playlists: dynamic while live, with availabilityStartTime the wall clock
// at decode time zero for the whole broadcast, and static once ended. Each
// rendition is a Representation with its own SegmentTemplate and
// SegmentTimeline of its listed segments. clockURL, when set, is the
// UTCTiming source (http-iso). It fails with ErrNotFound until a segment is
// listed.
func (p *Presentation) MPD(clockURL string) ([]byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()

	doc, err := p.mpd(clockURL, time.Now())
	if err != nil {
		return nil, err
	}

	out, err := xml.MarshalIndent(doc, "", " ")
	if err != nil {
		return nil, fmt.Errorf("mpd: %w", err)
	}

	return append([]byte(xml.Header), append(out, '\n')...), nil
}

func (p *Presentation) mpd(clockURL string, now time.Time) (*mpdDoc, error) {
	var video, audio []*rendition
	for _, r := range p.renditions {
		switch {
		case len(r.listed(p.Window)) == 0:
		case r.video:
			video = append(video, r)
		default:
			audio = append(audio, r)
		}
	}

	video = p.activeVideo(video)

	if !p.anchored || len(video)+len(audio) == 0 {
		return nil, fmt.Errorf("mpd before the first segment: %w", ErrNotFound)
	}

	doc := &mpdDoc{
		Xmlns:                 mpdNamespace,
		Profiles:              mpdProfiles,
		Type:                  "dynamic",
		AvailabilityStartTime: xsDateTime(p.wallZero),
		PublishTime:           xsDateTime(now),
		MinBufferTime:         xsDuration(p.SegmentDuration),
	}

	if clockURL != "" {
		doc.UTCTiming = &mpdDescriptor{SchemeIDURI: utcTimingScheme, Value: clockURL}
	}

	// Live: a player may start anywhere in the listed window; ended: the
	// presentation is the listed window, from its earliest start.
	var offset time.Duration

	if p.ended {
		start, end := p.listedSpan(append(video, audio...))
		offset = start
		doc.Type = "static"
		doc.MediaPresentationDuration = xsDuration(end - start)
	} else {
		doc.MinimumUpdatePeriod = xsDuration(p.SegmentDuration)
		doc.TimeShiftBufferDepth = xsDuration(time.Duration(p.Window) * p.SegmentDuration)
		doc.SuggestedPresentationDelay = xsDuration(presentationDelaySegments *
			p.SegmentDuration)
	}

	for i, session := range p.listedSessions(append(video, audio...)) {
		doc.Periods = append(doc.Periods, p.period(session, i == 0, offset, video, audio))
	}

	return doc, nil
}

// listedSessions returns the sessions of the segments listed in rs, in the
// order they were cut: one DASH Period each.
func (p *Presentation) listedSessions(rs []*rendition) []string {
	seen := map[string]bool{}

	var out []string

	for _, session := range p.sessions {
		for _, r := range rs {
			for _, s := range r.listed(p.Window) {
				if s.session == session && !seen[session] {
					seen[session] = true
					out = append(out, session)
				}
			}
		}
	}

	return out
}

// period describes the listed segments of one session. The first period
// starts at the presentation's start, offset in decode time; a later one
// where its earliest segment starts, since a returning publisher's segments
// continue the decode timeline (ISO/IEC 23009-1 5.3.2, 5.3.9.2).
func (p *Presentation) period(session string, first bool, offset time.Duration,
	video, audio []*rendition) mpdPeriod {
	start := offset

	if !first {
		start = time.Duration(math.MaxInt64)

		for _, r := range append(video, audio...) {
			if segs := inSession(r.listed(p.Window), session); len(segs) > 0 {
				start = min(start, tickDuration(segs[0].start, r.timescale))
			}
		}
	}

	per := mpdPeriod{ID: strconv.Itoa(slices.Index(p.sessions, session)),
		Start: xsDuration(start - offset)}

	for i, set := range []struct {
		kind, mime string
		rs         []*rendition
	}{{"video", "video/mp4", video}, {"audio", "audio/mp4", audio}} {
		as := mpdAdaptationSet{ID: i, ContentType: set.kind, MimeType: set.mime,
			SegmentAlignment: true, StartWithSAP: 1}

		for _, r := range set.rs {
			if segs := inSession(r.listed(p.Window), session); len(segs) > 0 {
				as.Representations = append(as.Representations,
					p.representation(r, session, segs, start))
			}
		}

		if len(as.Representations) > 0 {
			per.AdaptationSets = append(per.AdaptationSets, as)
		}
	}

	return per
}

// inSession returns the segments of session among segs.
func inSession(segs []*segment, session string) []*segment {
	var out []*segment

	for _, s := range segs {
		if s.session == session {
			out = append(out, s)
		}
	}

	return out
}

// listedSpan returns the earliest start and the latest end of the listed
// segments of rs, as decode times.
func (p *Presentation) listedSpan(rs []*rendition) (start, end time.Duration) {
	start = time.Duration(math.MaxInt64)

	for _, r := range rs {
		listed := r.listed(p.Window)
		first, last := listed[0], listed[len(listed)-1]
		start = min(start, tickDuration(first.start, r.timescale))
		end = max(end, tickDuration(last.start+last.duration, r.timescale))
	}

	return start, end
}

// representation describes r with a timeline of segs, cut in session;
// start is the decode time at the period's start.
func (p *Presentation) representation(r *rendition, session string, segs []*segment,
	start time.Duration) mpdRepresentation {
	peak, _ := p.bitrates(r)

	rep := mpdRepresentation{
		ID:        r.name,
		Codecs:    r.codecs,
		Bandwidth: peak,
		SegmentTemplate: mpdSegTemplate{
			Timescale:      r.timescale,
			Initialization: r.name + "/" + session + "/" + initName,
			Media: r.name + "/" + session + "/" + segmentPrefix + "$Number$" +
				segmentSuffix,
			StartNumber:            segs[0].seq,
			PresentationTimeOffset: ticks(start, r.timescale),
			Timeline:               timeline(segs),
		},
	}

	if r.video {
		rep.Width, rep.Height = r.width, r.height
		rep.FrameRate = frameRate(r.frameRate)
	} else {
		rep.AudioSamplingRate = int(r.timescale)

		if r.track.Channels > 0 {
			rep.Channels = &mpdDescriptor{SchemeIDURI: channelScheme,
				Value: strconv.Itoa(r.track.Channels)}
		}
	}

	return rep
}

// timeline writes segments as S elements, one run for each stretch of
// back-to-back segments of equal duration, with t where a run does not
// follow the previous one (ISO/IEC 23009-1 5.3.9.6).
func timeline(segments []*segment) []mpdS {
	var out []mpdS
	var end uint64

	for i, s := range segments {
		if n := len(out); i > 0 && s.start == end && out[n-1].D == s.duration {
			out[n-1].R++
			end += s.duration

			continue
		}

		entry := mpdS{D: s.duration}
		if i == 0 || s.start != end {
			t := s.start
			entry.T = &t
		}

		out = append(out, entry)
		end = s.start + s.duration
	}

	return out
}

// frameRate writes a frame rate as the FrameRateType of ISO/IEC 23009-1
// 5.3.12.2: an integer, or a fraction such as 25/2 or 30000/1001.
func frameRate(fps float64) string {
	if fps <= 0 {
		return ""
	}

	for _, den := range []float64{1, 2, 1001} {
		num := math.Round(fps * den)
		if den == 1001 {
			num = math.Round(fps*1.001) * 1000
		}

		if math.Abs(num/den-fps) >= 0.001 {
			continue
		}

		if den == 1 {
			return strconv.Itoa(int(num))
		}

		return fmt.Sprintf("%d/%d", int(num), int(den))
	}

	return fmt.Sprintf("%d/1000", int(math.Round(fps*1000)))
}

// xsDateTime writes t as an xs:dateTime in UTC with milliseconds.
func xsDateTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// xsDuration writes d as an xs:duration in seconds, to the millisecond.
func xsDuration(d time.Duration) string {
	return "PT" + strconv.FormatFloat(d.Round(time.Millisecond).Seconds(), 'f', -1, 64) + "S"
}
