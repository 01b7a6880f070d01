package packager

import (
	"strconv"
	"strings"
)

// part is one partial segment (RFC 8216bis 4.4.4.9): a CMAF fragment of a
// segment. A segment's bytes are its parts' back to back, so the segment and
// its parts are one copy: the open segment's parts are slices of segData,
// a finished segment's parts are byte ranges of its stored blob.
type part struct {
	start       uint64 // decode time of the first sample, in the timescale
	duration    uint64 // in the timescale
	offset      int    // in the segment's bytes
	size        int
	independent bool // starts with a sync sample
}

// seconds returns the part's duration in seconds.
func (pt *part) seconds(timescale uint32) float64 {
	return float64(pt.duration) / float64(timescale)
}

const (
	partPrefix = "part_"

	// advancePartLimit is how many parts past the last one a blocking
	// reload may ask for before it is refused (RFC 8216bis 6.2.5.2).
	advancePartLimit = 3

	// advanceSegmentLimit is how many segments past the live edge a
	// blocking reload may ask for before it is refused (RFC 8216bis 6.2.5.2).
	advanceSegmentLimit = 2
)

// partURI returns the name of part idx of segment seq, "part_SEQ_IDX.m4s".
func partURI(seq uint64, idx int) string {
	return partPrefix + strconv.FormatUint(seq, 10) + "_" + strconv.Itoa(idx) + segmentSuffix
}

// parsePartURI reads SEQ and IDX from "part_SEQ_IDX.m4s".
func parsePartURI(s string) (seq uint64, idx int, ok bool) {
	rest, ok := strings.CutPrefix(s, partPrefix)
	if !ok {
		return 0, 0, false
	}

	rest, ok = strings.CutSuffix(rest, segmentSuffix)
	if !ok {
		return 0, 0, false
	}

	seqDigits, idxDigits, ok := strings.Cut(rest, "_")
	if !ok || !canonical(seqDigits) || !canonical(idxDigits) || len(idxDigits) > 6 {
		return 0, 0, false
	}

	seq, err := strconv.ParseUint(seqDigits, 10, 64)
	if err != nil {
		return 0, 0, false
	}

	n, err := strconv.Atoi(idxDigits)
	if err != nil {
		return 0, 0, false
	}

	return seq, n, true
}

// canonical reports whether s is a decimal number without sign or leading
// zeros, so that every part and segment has exactly one URI.
func canonical(s string) bool {
	if s == "" || (len(s) > 1 && s[0] == '0') {
		return false
	}

	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}

	return true
}

// flushPart closes r's open part: it marshals the samples gathered since the
// last part, appends them to the open segment and announces the part.
func (p *Presentation) flushPart(r *rendition) {
	if len(r.samples) == 0 {
		return
	}

	independent := !r.video || !r.samples[0].IsNonSyncSample

	data, err := r.marshalPart()
	if err != nil {
		p.warn("part lost", "rendition", r.name, "error", err)
	} else {
		r.parts = append(r.parts, &part{
			start:       r.partStart,
			duration:    r.partTicks,
			offset:      len(r.segData),
			size:        len(data),
			independent: independent,
		})
		r.segData = append(r.segData, data...)
		p.changed = true
	}

	r.partStart += r.partTicks
	r.partTicks = 0
	r.samples = nil
}

// partLimit is the longest a part may grow, in r's timescale: the part
// target duration, which no part may exceed (RFC 8216bis 4.4.3.7).
func (p *Presentation) partLimit(r *rendition) uint64 {
	return ticks(p.PartDuration, r.timescale)
}

// lastPart returns the newest part of r: the segment it belongs to and its
// index there; ok is false when r has none.
func (r *rendition) lastPart() (msn uint64, idx int, ok bool) {
	if r.open && len(r.parts) > 0 {
		return r.nextSeq, len(r.parts) - 1, true
	}

	for i := len(r.segments) - 1; i >= 0; i-- {
		if s := r.segments[i]; !s.lost && len(s.parts) > 0 {
			return s.seq, len(s.parts) - 1, true
		}
	}

	return 0, 0, false
}

// nextPart returns the part that comes next: the preload hint. When the
// open segment's last part is out, it is the next segment's first.
func (r *rendition) nextPart() (msn uint64, idx int) {
	if r.open && r.complete {
		return r.nextSeq + 1, 0
	}

	if r.open {
		return r.nextSeq, len(r.parts)
	}

	return r.nextSeq, 0
}

// segmentBySeq returns the kept segment seq, or nil.
func (r *rendition) segmentBySeq(seq uint64) *segment {
	if len(r.segments) == 0 {
		return nil
	}

	first := r.segments[0].seq
	if seq < first || seq-first >= uint64(len(r.segments)) {
		return nil
	}

	return r.segments[seq-first]
}

// has reports whether r holds what a blocking reload for segment msn, part
// idx (negative: the whole segment) waits for (RFC 8216bis 6.2.5.2). A part
// past the end of a finished segment stands for the next segment's first.
func (r *rendition) has(msn uint64, idx int) bool {
	if msn < r.nextSeq {
		s := r.segmentBySeq(msn)
		if idx < 0 || s == nil || idx < len(s.parts) {
			return true
		}

		return r.has(msn+1, 0)
	}

	return msn == r.nextSeq && r.open && idx >= 0 && idx < len(r.parts)
}

// tooFarAhead reports whether a blocking reload asks for more than
// advanceSegmentLimit segments or advancePartLimit parts past the live edge.
func (r *rendition) tooFarAhead(msn uint64, idx int) bool {
	if msn > r.nextSeq+advanceSegmentLimit {
		return true
	}

	next := 0
	if r.open {
		next = len(r.parts)
	}

	return msn == r.nextSeq && idx >= next+advancePartLimit
}
