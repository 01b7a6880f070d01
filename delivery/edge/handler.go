package edge

import (
	"bytes"
	"fmt"
	"net/http"
)

// X-Cache values: how a request was answered.
const (
	xHit       = "HIT"       // from a fresh cached object
	xMiss      = "MISS"      // by the origin fetch this request started
	xCoalesced = "COALESCED" // by an origin fetch another request started
	xPass      = "PASS"      // streamed from the origin uncached
)

// Handler returns the handler of every path: GET and HEAD from the cache,
// other methods (CORS preflights) passed to the origin.
func (c *Cache) Handler() http.Handler {
	return http.HandlerFunc(c.serve)
}

// serve answers one request.
func (c *Cache) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		c.pass(w, r, "")

		return
	}

	w, done, ok := c.check(w, r)
	if !ok {
		return
	}
	defer done()

	key, query := cacheKey(r.URL)

	o, f, leader := c.lookup(key, r.URL.Path, query)

	switch {
	case o != nil && o.large:
		c.pass(w, r, query)

		return
	case o != nil:
		c.hits.Add(1)
		c.write(w, r, o, xHit)

		return
	case f == nil:
		fail(w, http.StatusServiceUnavailable, "edge shutting down", xMiss)

		return
	}

	state := xCoalesced
	if leader {
		state = xMiss
		c.misses.Add(1)
	} else {
		c.coalesced.Add(1)
	}

	select {
	case <-f.done:
	case <-r.Context().Done():
		return
	}

	switch res := f.res; {
	case res.obj == nil:
		fail(w, res.status, res.msg, state)
	case res.obj.large:
		c.pass(w, r, query)
	default:
		c.write(w, r, res.obj, state)
	}
}

// write answers from o. A plain GET is written directly; Range and
// conditional requests go through http.ServeContent, which answers them from
// the whole body and the ETag.
func (c *Cache) write(w http.ResponseWriter, r *http.Request, o *object, state string) {
	h := w.Header()
	for k, v := range o.header {
		h[k] = v
	}

	h["X-Cache"] = []string{state}
	h["Age"] = []string{o.age(c.Clock())}

	if o.status != http.StatusOK {
		h["Content-Length"] = o.length
		w.WriteHeader(o.status)

		if r.Method != http.MethodHead {
			w.Write(o.body)
		}

		return
	}

	if plain(r) {
		h["Content-Length"] = o.length
		w.WriteHeader(http.StatusOK)

		if r.Method != http.MethodHead {
			w.Write(o.body)
		}

		return
	}

	http.ServeContent(w, r, "", o.modTime, bytes.NewReader(o.body))
}

// plain says whether r asks for the whole body unconditionally.
func plain(r *http.Request) bool {
	for _, k := range []string{"Range", "If-None-Match", "If-Match", "If-Modified-Since",
		"If-Unmodified-Since"} {
		if _, ok := r.Header[k]; ok {
			return false
		}
	}

	return true
}

// fail answers with a failure of the edge's own making, which no cache may
// keep; players embedded in other origins may read it.
func fail(w http.ResponseWriter, status int, msg, state string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("X-Cache", state)
	w.WriteHeader(status)
	fmt.Fprintln(w, msg)
}
