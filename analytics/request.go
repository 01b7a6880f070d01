package analytics

import (
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// Request is one manifest, segment or part request served to a viewer.
type Request struct {
	Time      time.Time     // when it was served; zero: the Collector's clock
	UID       string        // the video or live input served
	LiveInput string        // the live input behind it; "" for an upload
	Creator   string        // the creator of the video or input
	Country   string        // ISO 3166-1 alpha-2 of the viewer; "XX" when unknown
	Session   string        // from SessionKey
	Media     time.Duration // media time delivered: a segment's or part's duration, else 0
}

// SessionKey identifies a viewer's session without a cookie: the token the
// viewer plays with when there is one, else a fingerprint of the address,
// user agent and id played. Only a hash is kept.
func SessionKey(token, addr, userAgent, id string) string {
	h := sha256.New()

	if token != "" {
		h.Write([]byte("token\x00" + token))
	} else {
		h.Write([]byte("fp\x00" + addr + "\x00" + userAgent + "\x00" + id))
	}

	return hex.EncodeToString(h.Sum(nil)[:16])
}

// Row is the counts of one minute for one set of dimensions.
type Row struct {
	Minute    time.Time // UTC, whole minute
	UID       string
	LiveInput string
	Creator   string
	Country   string

	MediaSeconds float64 // media delivered to the minute's sessions, in seconds
	Views        int64   // sessions started in the minute
}

// rowKey is the dimensions of a Row.
type rowKey struct {
	minute                           int64 // Unix seconds
	uid, liveInput, creator, country string
}
