package edge

import (
	"net/url"
	"strings"
)

// keyParams are the query parameters that select a different answer from the
// origin: the LL-HLS delivery directives (RFC 8216bis 6.2.5) and onair's
// protocol switch. They are part of the cache key and are sent to the origin
// in this order; every other parameter is left out of both, so that
// cache-busting or tracking parameters cannot multiply origin requests.
var keyParams = []string{"protocol", "_HLS_msn", "_HLS_part", "_HLS_skip"}

// cacheKey returns the key of the object u names and the query to send to the
// origin for it.
func cacheKey(u *url.URL) (key, query string) {
	if u.RawQuery == "" {
		return u.Path, ""
	}

	values := u.Query()

	var b strings.Builder

	for _, p := range keyParams {
		v, ok := values[p]
		if !ok {
			continue
		}

		if b.Len() > 0 {
			b.WriteByte('&')
		}

		b.WriteString(p)
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(v[0]))
	}

	if b.Len() == 0 {
		return u.Path, ""
	}

	query = b.String()

	return u.Path + "?" + query, query
}

// playbackID returns the first element of path, the input or video id that
// chooses the origin.
func playbackID(path string) string {
	path = strings.TrimLeft(path, "/")
	if i := strings.IndexByte(path, '/'); i >= 0 {
		return path[:i]
	}

	return path
}

// blocking says whether query asks for an LL-HLS blocking playlist reload.
func blocking(query string) bool {
	return strings.Contains(query, "_HLS_msn=")
}
