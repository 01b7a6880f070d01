package packager

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// hlsVersion is the EXT-X-VERSION of every playlist: 7 covers EXT-X-MAP in
// playlists without I-frames-only segments and fMP4 media (RFC 8216 7).
const hlsVersion = 7

// URI names of the presentation's scheme, relative to the multivariant
// playlist: NAME/index.m3u8, NAME/SESSION/init.mp4, NAME/SESSION/seg_SEQ.m4s.
const (
	// MultivariantName is the file name delivery serves the multivariant
	// playlist under.
	MultivariantName = "video.m3u8"

	mediaPlaylistName      = "index.m3u8"
	lowLatencyPlaylistName = "llhls.m3u8"
	initName               = "init.mp4"
	segmentPrefix          = "seg_"
	segmentSuffix          = ".m4s"
)

func (p *Presentation) initKey(r *rendition) string {
	return r.name + "/" + p.session + "/" + initName
}

func (p *Presentation) segmentKey(r *rendition, seq uint64) string {
	return r.name + "/" + p.segmentSession(r, seq) + "/" + segmentURI(seq)
}

// segmentSession returns the session of r's segment seq: the current one
// for the open segment and for segments not kept.
func (p *Presentation) segmentSession(r *rendition, seq uint64) string {
	if s := r.segmentBySeq(seq); s != nil && s.session != "" {
		return s.session
	}

	return p.session
}

// initIn returns r's init segment of session, or nil.
func (p *Presentation) initIn(r *rendition, session string) []byte {
	if session == p.session {
		return r.init
	}

	return r.inits[session]
}

// mapTag writes EXT-X-MAP for the init segment of session.
func mapTag(b *bytes.Buffer, session string) {
	fmt.Fprintf(b, "#EXT-X-MAP:URI=\"%s/%s\"\n", session, initName)
}

// firstSession returns the session of the first of listed, or the current
// one when none is listed.
func (p *Presentation) firstSession(listed []*segment) string {
	if len(listed) > 0 && listed[0].session != "" {
		return listed[0].session
	}

	return p.session
}

func segmentURI(seq uint64) string {
	return segmentPrefix + strconv.FormatUint(seq, 10) + segmentSuffix
}

// Session returns the token in the presentation's init and segment URIs,
// random for every presentation; empty before Start.
func (p *Presentation) Session() string {
	p.mu.Lock()
	defer p.mu.Unlock()

	return p.session
}

// Multivariant returns the HLS multivariant playlist: the audio rendition as
// EXT-X-MEDIA and one EXT-X-STREAM-INF per active video rung (RFC 8216 4.3.4).
// Without video it lists the audio playlist as the only variant.
func (p *Presentation) Multivariant() []byte {
	return p.multivariant(mediaPlaylistName)
}

// LowLatencyMultivariant returns the multivariant playlist whose variants are
// the LL-HLS media playlists, NAME/llhls.m3u8.
func (p *Presentation) LowLatencyMultivariant() []byte {
	return p.multivariant(lowLatencyPlaylistName)
}

// multivariant writes the multivariant playlist pointing at the media
// playlists named playlist.
func (p *Presentation) multivariant(playlist string) []byte {
	p.mu.Lock()
	defer p.mu.Unlock()

	var b bytes.Buffer

	fmt.Fprintf(&b, "#EXTM3U\n#EXT-X-VERSION:%d\n#EXT-X-INDEPENDENT-SEGMENTS\n", hlsVersion)

	var audio, video []*rendition
	for _, r := range p.renditions {
		if r.video {
			video = append(video, r)
		} else {
			audio = append(audio, r)
		}
	}

	if len(video) == 0 {
		for _, r := range audio[:min(1, len(audio))] {
			peak, avg := p.bitrates(r)
			fmt.Fprintf(&b, "#EXT-X-STREAM-INF:BANDWIDTH=%d,AVERAGE-BANDWIDTH=%d,CODECS=\"%s\"\n%s\n",
				peak, avg, r.codecs, r.name+"/"+playlist)
		}

		return b.Bytes()
	}

	var audioPeak, audioAvg int
	var audioCodecs string

	for i, r := range audio {
		def := "NO"
		if i == 0 {
			def = "YES"
			audioPeak, audioAvg = p.bitrates(r)
			audioCodecs = "," + r.codecs
		}

		fmt.Fprintf(&b, "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"audio\",NAME=\"%s\",DEFAULT=%s,"+
			"AUTOSELECT=YES,", r.name, def)

		if r.track.Channels > 0 {
			fmt.Fprintf(&b, "CHANNELS=\"%d\",", r.track.Channels)
		}

		fmt.Fprintf(&b, "URI=\"%s\"\n", r.name+"/"+playlist)
	}

	for _, r := range p.activeVideo(video) {
		peak, avg := p.bitrates(r)
		fmt.Fprintf(&b, "#EXT-X-STREAM-INF:BANDWIDTH=%d,AVERAGE-BANDWIDTH=%d,",
			peak+audioPeak, avg+audioAvg)

		if r.width > 0 && r.height > 0 {
			fmt.Fprintf(&b, "RESOLUTION=%dx%d,", r.width, r.height)
		}

		if r.frameRate > 0 {
			fmt.Fprintf(&b, "FRAME-RATE=%.3f,", r.frameRate)
		}

		fmt.Fprintf(&b, "CODECS=\"%s%s\"", r.codecs, audioCodecs)

		if len(audio) > 0 {
			b.WriteString(",AUDIO=\"audio\"")
		}

		fmt.Fprintf(&b, "\n%s\n", r.name+"/"+playlist)
	}

	return b.Bytes()
}

// activeVideo returns the rungs to list: the active ones, or, when every rung
// is inactive, those with segments, so that a player always has a variant.
func (p *Presentation) activeVideo(video []*rendition) []*rendition {
	var out, fallback []*rendition

	for _, r := range video {
		if !r.inactive {
			out = append(out, r)
		}

		if len(r.segments) > 0 {
			fallback = append(fallback, r)
		}
	}

	if len(out) == 0 {
		return fallback
	}

	return out
}

// bitrates returns the BANDWIDTH and AVERAGE-BANDWIDTH of a rendition: measured
// over its listed segments, or before there are any, its declared bitrate with
// 10% headroom for the peak.
func (p *Presentation) bitrates(r *rendition) (peak, average int) {
	peakF, avgF, ok := r.bandwidth(p.Window, p.SegmentDuration.Seconds()/2)
	if ok {
		return int(math.Ceil(peakF)), int(math.Ceil(avgF))
	}

	declared := r.track.Bitrate
	if declared <= 0 {
		declared = defaultBitrate(r)
	}

	return declared * 11 / 10, declared
}

// defaultBitrate stands in for the bitrate of a track that declares none.
func defaultBitrate(r *rendition) int {
	if r.video {
		return 2_000_000
	}

	return 128_000
}

// MediaPlaylist returns the media playlist of the named rendition: its newest
// Window segments, and EXT-X-ENDLIST once the presentation has ended. It fails
// with ErrNotFound for an unknown name.
func (p *Presentation) MediaPlaylist(name string) ([]byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()

	r := p.byName[name]
	if r == nil {
		return nil, fmt.Errorf("rendition %q: %w", name, ErrNotFound)
	}

	listed := r.listed(p.Window)

	var first uint64
	if len(listed) > 0 {
		first = listed[0].seq
	} else {
		first = r.nextSeq
	}

	var b bytes.Buffer

	fmt.Fprintf(&b, "#EXTM3U\n#EXT-X-VERSION:%d\n#EXT-X-TARGETDURATION:%d\n"+
		"#EXT-X-MEDIA-SEQUENCE:%d\n", hlsVersion, p.targetDuration(), first)

	if disc := r.discontinuitySequence(p.Window); disc > 0 {
		fmt.Fprintf(&b, "#EXT-X-DISCONTINUITY-SEQUENCE:%d\n", disc)
	}

	b.WriteString("#EXT-X-INDEPENDENT-SEGMENTS\n")
	mapTag(&b, p.firstSession(listed))

	for i, s := range listed {
		if s.discontinuity && i > 0 {
			b.WriteString("#EXT-X-DISCONTINUITY\n")
		}

		if i > 0 && s.session != listed[i-1].session {
			mapTag(&b, s.session)
		}

		if i == 0 || s.discontinuity {
			fmt.Fprintf(&b, "#EXT-X-PROGRAM-DATE-TIME:%s\n",
				s.wall.UTC().Format("2006-01-02T15:04:05.000Z07:00"))
		}

		if s.lost {
			b.WriteString("#EXT-X-GAP\n")
		}

		fmt.Fprintf(&b, "#EXTINF:%.5f,\n%s/%s\n", s.seconds(r.timescale), s.session,
			segmentURI(s.seq))
	}

	if p.ended {
		b.WriteString("#EXT-X-ENDLIST\n")
	}

	return b.Bytes(), nil
}

// Init returns the init segment (ftyp+moov) of the named rendition, or
// ErrNotFound.
func (p *Presentation) Init(name string) ([]byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()

	r := p.byName[name]
	if r == nil {
		return nil, fmt.Errorf("rendition %q: %w", name, ErrNotFound)
	}

	return r.init, nil
}

// Segment returns media segment seq (moof+mdat) of the named rendition, or
// ErrNotFound when there is no such rendition or the segment is not kept.
func (p *Presentation) Segment(name string, seq uint64) ([]byte, error) {
	p.mu.Lock()
	r, store := p.byName[name], p.Store

	var key string
	if r != nil {
		key = p.segmentKey(r, seq)
	}
	p.mu.Unlock()

	if r == nil {
		return nil, fmt.Errorf("rendition %q: %w", name, ErrNotFound)
	}

	// The store is read without the lock, so that a slow store never holds
	// up the writer.
	data, err := store.Get(key)
	if err != nil {
		return nil, fmt.Errorf("rendition %q segment %d: %w", name, seq, err)
	}

	return data, nil
}

// parseSegmentURI reads SEQ from "seg_SEQ.m4s".
func parseSegmentURI(s string) (uint64, bool) {
	digits, ok := strings.CutPrefix(s, segmentPrefix)
	if !ok {
		return 0, false
	}

	digits, ok = strings.CutSuffix(digits, segmentSuffix)
	if !ok || digits == "" || (len(digits) > 1 && digits[0] == '0') {
		return 0, false
	}

	seq, err := strconv.ParseUint(digits, 10, 64)
	if err != nil {
		return 0, false
	}

	return seq, true
}
