package edge

import (
	"net/http"
	"strings"

	"github.com/onair/onair/delivery"
)

// check applies the Guard to a playback request before the cache answers
// it. It returns the writer to answer through and a function to call once
// answered, which counts a manifest or segment served; ok false means the
// request was refused and answered.
func (c *Cache) check(w http.ResponseWriter, r *http.Request) (http.ResponseWriter, func(),
	bool) {
	id, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	manifest := strings.HasPrefix(rest, "manifest/")

	if (c.Guard == nil && c.Viewing == nil) || id == "" ||
		(!manifest && rest != "lifecycle" && rest != "views") {
		return w, func() {}, true
	}

	uid, ok := c.Guard.Check(w, r, id)
	if !ok {
		return nil, nil, false
	}

	vw := &viewWriter{ResponseWriter: w, acao: w.Header().Get("Access-Control-Allow-Origin")}

	done := func() {
		if !manifest || c.Viewing == nil || vw.status != http.StatusOK {
			return
		}

		media := delivery.ParseMediaSeconds(vw.Header().Get(delivery.DurationHeader))
		if r.Method == http.MethodHead {
			media = 0 // nothing was sent
		}

		c.Viewing.Record(c.Guard.ViewRequest(r, id, uid, media))
	}

	return vw, done, true
}

// viewWriter notes the status of an answer, and keeps the CORS origin the
// Guard allowed over the "*" of a cached object's headers.
type viewWriter struct {
	http.ResponseWriter

	acao   string
	status int
}

func (vw *viewWriter) WriteHeader(status int) {
	if vw.status == 0 {
		vw.status = status

		if vw.acao != "" {
			h := vw.Header()
			h.Set("Access-Control-Allow-Origin", vw.acao)
			h.Add("Vary", "Origin")
		}
	}

	vw.ResponseWriter.WriteHeader(status)
}

func (vw *viewWriter) Write(p []byte) (int, error) {
	if vw.status == 0 {
		vw.WriteHeader(http.StatusOK)
	}

	return vw.ResponseWriter.Write(p)
}

// markEdge tells the origin that req comes from this edge: it does not count
// it, and with OriginToken trusts the edge's viewer checks.
func (c *Cache) markEdge(req *http.Request) {
	req.Header.Set(delivery.EdgeHeader, "1")

	if c.OriginToken != "" {
		req.Header.Set("Authorization", "Bearer "+c.OriginToken)
	}
}
