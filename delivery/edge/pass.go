package edge

import (
	"context"
	"io"
	"net/http"
	"sync/atomic"
	"time"
)

// passHeaders are the request fields a streamed-through request carries.
var passHeaders = []string{
	"Range", "If-Range", "If-None-Match", "If-Modified-Since", "Origin", "Accept",
	"Access-Control-Request-Method", "Access-Control-Request-Headers",
}

// pass streams r's answer from the origin without caching it: objects too big
// to keep, and methods other than GET and HEAD. Timeout bounds the wait for
// the answer's header only, so that long bodies are not cut.
func (c *Cache) pass(w http.ResponseWriter, r *http.Request, query string) {
	c.passed.Add(1)

	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()

	var timedOut atomic.Bool

	timer := time.AfterFunc(c.Timeout, func() {
		timedOut.Store(true)
		cancel()
	})

	resp, status := c.passFetch(ctx, r, query)
	if !timer.Stop() || timedOut.Load() {
		if resp != nil {
			resp.Body.Close()
		}

		fail(w, http.StatusGatewayTimeout, errTimeout.Error(), xPass)

		return
	}

	if resp == nil {
		msg := "origin unreachable"
		if status != http.StatusBadGateway {
			msg = errTimeout.Error()
		}

		fail(w, status, msg, xPass)

		return
	}
	defer resp.Body.Close()

	h := w.Header()
	for k, v := range cleanHeader(resp.Header) {
		h[k] = v
	}

	if resp.ContentLength >= 0 {
		h.Set("Content-Length", resp.Header.Get("Content-Length"))
	}

	h.Set("X-Cache", xPass)
	w.WriteHeader(resp.StatusCode)

	if r.Method != http.MethodHead {
		io.Copy(w, resp.Body)
	}
}

// passFetch sends r to the origins in turn until one answers; without an
// answer it returns the status for the viewer.
func (c *Cache) passFetch(ctx context.Context, r *http.Request,
	query string) (*http.Response, int) {
	for _, o := range c.order(playbackID(r.URL.Path)) {
		req, err := http.NewRequestWithContext(ctx, r.Method, o.target(r.URL.Path, query), nil)
		if err != nil {
			return nil, http.StatusBadGateway
		}

		for _, k := range passHeaders {
			if v, ok := r.Header[k]; ok {
				req.Header[k] = v
			}
		}

		req.Header.Set("Accept-Encoding", "identity")
		c.markEdge(req)
		c.fetches.Add(1)

		resp, err := c.Client.Do(req)
		if err == nil {
			c.markUp(o)

			return resp, 0
		}

		if ctx.Err() != nil {
			return nil, http.StatusGatewayTimeout
		}

		c.markDown(o, err.Error())
	}

	return nil, http.StatusBadGateway
}
