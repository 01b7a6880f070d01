package edge

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ttl returns how long an origin answer may be served from the cache.
func (c *Cache) ttl(status int, h http.Header, path string, body []byte,
	block bool) time.Duration {
	switch {
	case status == http.StatusNotFound || status == http.StatusGone:
		return c.NotFoundTTL
	case status != http.StatusOK:
		return 0
	}

	ttl := min(freshness(h), c.MaxTTL)
	if ttl <= 0 || !isPlaylist(h, path) {
		return ttl
	}

	if block {
		return min(ttl, c.BlockingTTL)
	}

	limit := c.PlaylistTTL
	if part := partTarget(body); part > 0 {
		limit = min(limit, part/2)
	}

	return min(ttl, limit)
}

// freshness returns the time left to live of an answer by its Cache-Control
// and Age (RFC 9111 4.2.1, 5.2.2): s-maxage before max-age; no-store,
// no-cache and private mean none, and so does no Cache-Control at all.
func freshness(h http.Header) time.Duration {
	maxAge, sMaxAge := -1, -1

	for _, d := range strings.Split(h.Get("Cache-Control"), ",") {
		name, value, _ := strings.Cut(strings.TrimSpace(d), "=")

		switch strings.ToLower(name) {
		case "no-store", "no-cache", "private":
			return 0
		case "max-age":
			maxAge = seconds(value)
		case "s-maxage":
			sMaxAge = seconds(value)
		}
	}

	if sMaxAge >= 0 {
		maxAge = sMaxAge
	}

	if maxAge <= 0 {
		return 0
	}

	age := seconds(h.Get("Age"))
	if age < 0 {
		age = 0
	}

	return time.Duration(maxAge-age) * time.Second
}

// seconds parses a delta-seconds value (RFC 9111 1.2.2); -1 when malformed.
func seconds(s string) int {
	n, err := strconv.Atoi(strings.Trim(s, `"`))
	if err != nil || n < 0 {
		return -1
	}

	return n
}

// isPlaylist says whether an answer is an HLS playlist or a DASH MPD.
func isPlaylist(h http.Header, path string) bool {
	ct := strings.ToLower(h.Get("Content-Type"))

	return strings.Contains(ct, "mpegurl") || strings.Contains(ct, "dash+xml") ||
		strings.HasSuffix(path, ".m3u8") || strings.HasSuffix(path, ".mpd")
}

// partTarget returns the PART-TARGET of an LL-HLS media playlist
// (RFC 8216bis 4.4.3.7), or zero.
func partTarget(body []byte) time.Duration {
	const tag = "#EXT-X-PART-INF:"

	i := bytes.Index(body, []byte(tag))
	if i < 0 {
		return 0
	}

	line := body[i+len(tag):]
	if j := bytes.IndexByte(line, '\n'); j >= 0 {
		line = line[:j]
	}

	for _, attr := range strings.Split(strings.TrimSpace(string(line)), ",") {
		name, value, _ := strings.Cut(attr, "=")
		if name != "PART-TARGET" {
			continue
		}

		f, err := strconv.ParseFloat(value, 64)
		if err != nil || f <= 0 {
			return 0
		}

		return time.Duration(f * float64(time.Second))
	}

	return 0
}
