package edge

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"
)

// origin is one origin server and whether it failed lately.
type origin struct {
	url       *url.URL
	downUntil atomic.Int64 // edge clock, Unix nanoseconds
}

// target returns the URL of path and query at o.
func (o *origin) target(path, query string) string {
	u := *o.url
	u.Path = trimSlash(u.Path) + path
	u.RawPath = ""
	u.RawQuery = query
	u.Fragment = ""

	return u.String()
}

func trimSlash(s string) string {
	for len(s) > 0 && s[len(s)-1] == '/' {
		s = s[:len(s)-1]
	}

	return s
}

// order returns the origins to try for a playback id: the one its hash
// chooses first, then the others in turn, those that failed lately last.
func (c *Cache) order(id string) []*origin {
	h := fnv.New32a()
	h.Write([]byte(id))

	n := len(c.origins)
	start := int(h.Sum32() % uint32(n))
	now := c.Clock().UnixNano()

	up := make([]*origin, 0, n)
	var down []*origin

	for i := range n {
		o := c.origins[(start+i)%n]
		if o.downUntil.Load() > now {
			down = append(down, o)
		} else {
			up = append(up, o)
		}
	}

	return append(up, down...)
}

// markDown notes that o failed, logging when it was up until now.
func (c *Cache) markDown(o *origin, why string) {
	now := c.Clock()
	if o.downUntil.Swap(now.Add(downFor).UnixNano()) == 0 {
		c.Log.Warn("origin down", "origin", o.url.Redacted(), "reason", why)
	}
}

// markUp notes that o answered, logging when it was down.
func (c *Cache) markUp(o *origin) {
	if o.downUntil.Load() != 0 && o.downUntil.Swap(0) != 0 {
		c.Log.Info("origin back", "origin", o.url.Redacted())
	}
}

// load fetches path and query from the origins, failing over from one that
// cannot be reached or answers 502, 503 or 504 to the next.
func (c *Cache) load(key, path, query string) *result {
	ctx, cancel := context.WithTimeout(c.ctx, c.Timeout)
	defer cancel()

	var res *result

	for _, o := range c.order(playbackID(path)) {
		var retry bool

		res, retry = c.loadFrom(ctx, o, key, path, query)
		if !retry {
			return res
		}
	}

	return res
}

// loadFrom fetches from one origin; retry says another origin may do better.
func (c *Cache) loadFrom(ctx context.Context, o *origin, key, path, query string) (*result, bool) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, o.target(path, query), nil)
	if err != nil {
		return failure(http.StatusBadGateway, "bad origin request"), false
	}

	// No transparent gzip: the body, its length and its ETag stay the origin's.
	req.Header.Set("Accept-Encoding", "identity")
	c.markEdge(req)
	c.fetches.Add(1)

	resp, err := c.Client.Do(req)
	if err != nil {
		return c.transportFailure(ctx, o, err)
	}
	defer resp.Body.Close()

	if resp.ContentLength > c.MaxObjectBytes {
		return &result{obj: c.largeObject(key, resp)}, false
	}

	limit := c.MaxObjectBytes
	if resp.StatusCode != http.StatusOK {
		limit = maxErrorBody
	}

	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return c.transportFailure(ctx, o, err)
	}

	if int64(len(body)) > limit {
		if resp.StatusCode == http.StatusOK {
			return &result{obj: c.largeObject(key, resp)}, false
		}

		body = body[:limit]
	}

	switch resp.StatusCode {
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		c.markDown(o, "answered "+strconv.Itoa(resp.StatusCode))

		return &result{obj: c.newObject(key, path, query, resp, body)}, true
	}

	c.markUp(o)

	return &result{obj: c.newObject(key, path, query, resp, body)}, false
}

// transportFailure maps an error reaching an origin to the viewers' answer.
func (c *Cache) transportFailure(ctx context.Context, o *origin, err error) (*result, bool) {
	var ne net.Error

	switch {
	case c.ctx.Err() != nil:
		return failure(http.StatusServiceUnavailable, "edge shutting down"), false
	case errors.Is(ctx.Err(), context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		c.markDown(o, errTimeout.Error())

		return failure(http.StatusGatewayTimeout, errTimeout.Error()), false
	}

	c.markDown(o, err.Error())

	return failure(http.StatusBadGateway, "origin unreachable"), true
}

// failure is a result of the edge's own making.
func failure(status int, msg string) *result {
	return &result{status: status, msg: msg}
}

// newObject builds the object of an origin answer.
func (c *Cache) newObject(key, path, query string, resp *http.Response, body []byte) *object {
	now := c.Clock()
	h := cleanHeader(resp.Header)

	if resp.StatusCode == http.StatusOK && h.Get("ETag") == "" {
		h.Set("ETag", etag(body))
	}

	o := &object{
		key:     key,
		status:  resp.StatusCode,
		header:  h,
		body:    body,
		length:  []string{strconv.Itoa(len(body))},
		fetched: now,
		baseAge: int64(max(seconds(resp.Header.Get("Age")), 0)),
	}

	if t, err := http.ParseTime(resp.Header.Get("Last-Modified")); err == nil {
		o.modTime = t
	}

	o.ttl = c.ttl(resp.StatusCode, resp.Header, path, body, blocking(query))
	o.expires = now.Add(o.ttl)

	return o
}

// largeObject notes that key is too big to keep, for as long as the
// origin lets it be cached (a minute at most), so that later viewers stream
// it without waiting for a fetch.
func (c *Cache) largeObject(key string, resp *http.Response) *object {
	now := c.Clock()
	ttl := min(freshness(resp.Header), time.Minute)

	return &object{key: key, large: true, fetched: now, ttl: ttl, expires: now.Add(ttl)}
}

// hopHeaders are not passed on (RFC 9110 7.6.1), or are set by the edge.
var hopHeaders = []string{
	"Connection", "Keep-Alive", "Proxy-Connection", "Transfer-Encoding", "Upgrade",
	"Trailer", "Te", "Proxy-Authenticate", "Content-Length", "Date", "Age", "X-Cache",
}

// cleanHeader copies h without the hop-by-hop fields.
func cleanHeader(h http.Header) http.Header {
	out := h.Clone()
	for _, k := range hopHeaders {
		delete(out, k)
	}

	return out
}

// etag returns a strong entity tag of a body the origin sent without one.
func etag(body []byte) string {
	h := fnv.New64a()
	h.Write(body)

	return fmt.Sprintf(`"%016x"`, h.Sum64())
}
