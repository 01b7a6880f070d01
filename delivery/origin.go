package delivery

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/http"
	"time"

	"github.com/onair/onair/packager"
)

// Cache-Control values. Playlists change with every segment; init and media
// segments never change under their URI, which carries the presentation's
// session token, so caches may keep them for as long as they are useful.
const (
	playlistCache = "max-age=1"
	segmentCache  = "public, max-age=86400, immutable"
	errorCache    = "no-store"
)

// CORS headers of every playback response.
const (
	allowMethods  = "GET, HEAD, OPTIONS"
	allowHeaders  = "Range, If-None-Match, If-Modified-Since, Origin, Accept, Content-Type"
	exposeHeaders = "Content-Length, Content-Range, ETag, Date, Age"
	preflightAge  = "86400"
)

// Presentations finds the presentation that a playback id names.
type Presentations interface {
	// Presentation returns the presentation of id, a live input uid (later
	// also a video uid), and whether there is one.
	Presentation(id string) (*packager.Presentation, bool)
}

// Origin serves the playback paths of SPEC.md section 3 from presentations.
// Fill the fields, then mount Handler.
type Origin struct {
	// Presentations looks playback ids up.
	Presentations Presentations

	// Log receives the origin's lines; nil discards them.
	Log *slog.Logger
}

// Handler returns the handler of the playback paths: /{id}/manifest/... and
// /{id}/lifecycle.
func (o *Origin) Handler() http.Handler {
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}

	h := &handler{presentations: o.Presentations, log: log}

	mux := http.NewServeMux()
	mux.HandleFunc("/{id}/manifest/{uri...}", h.manifest)
	mux.HandleFunc("/{id}/lifecycle", h.lifecycle)

	return cors(mux)
}

// handler holds what the playback handlers share.
type handler struct {
	presentations Presentations
	log           *slog.Logger
}

// cors adds the CORS headers to every response and answers preflights.
func cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hdr := w.Header()
		hdr.Set("Access-Control-Allow-Origin", "*")
		hdr.Set("Access-Control-Expose-Headers", exposeHeaders)

		if r.Method == http.MethodOptions {
			hdr.Set("Access-Control-Allow-Methods", allowMethods)
			hdr.Set("Access-Control-Allow-Headers", allowHeaders)
			hdr.Set("Access-Control-Max-Age", preflightAge)
			hdr.Set("Allow", allowMethods)
			w.WriteHeader(http.StatusNoContent)

			return
		}

		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			hdr.Set("Allow", allowMethods)
			fail(w, http.StatusMethodNotAllowed, "method not allowed")

			return
		}

		next.ServeHTTP(w, r)
	})
}

// manifest serves a presentation's playlists and segments.
func (h *handler) manifest(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")

	p, ok := h.presentations.Presentation(id)
	if !ok {
		fail(w, http.StatusNotFound, "no live presentation for this id")

		return
	}

	res, err := p.Open(r.PathValue("uri"))
	if errors.Is(err, packager.ErrNotFound) {
		fail(w, http.StatusNotFound, "not found")

		return
	}

	if err != nil {
		h.log.Warn("playback read failed", "id", id, "uri", r.PathValue("uri"), "error", err)
		fail(w, http.StatusInternalServerError, "cannot read this resource")

		return
	}

	hdr := w.Header()
	hdr.Set("Content-Type", contentType(res))
	hdr.Set("ETag", etag(res.Data))

	if res.Kind == packager.KindInit || res.Kind == packager.KindSegment {
		hdr.Set("Cache-Control", segmentCache)
	} else {
		hdr.Set("Cache-Control", playlistCache)
	}

	// ServeContent answers HEAD, Range and If-None-Match.
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(res.Data))
}

// contentType returns the media type of a resource (RFC 8216 4, RFC 4337).
func contentType(res *packager.Resource) string {
	switch {
	case res.Kind == packager.KindMultivariant || res.Kind == packager.KindMediaPlaylist:
		return "application/vnd.apple.mpegurl"
	case res.Video:
		return "video/mp4"
	default:
		return "audio/mp4"
	}
}

// etag returns a strong entity tag of data: FNV-1a is cheap beside sending it.
func etag(data []byte) string {
	h := fnv.New64a()
	h.Write(data)

	return fmt.Sprintf(`"%016x"`, h.Sum64())
}

// lifecycleBody is the JSON of /{id}/lifecycle.
type lifecycleBody struct {
	IsInput  bool    `json:"isInput"`
	VideoUID *string `json:"videoUID"`
	Live     bool    `json:"live"`
}

// lifecycle says whether a live input is live.
func (h *handler) lifecycle(w http.ResponseWriter, r *http.Request) {
	p, ok := h.presentations.Presentation(r.PathValue("id"))
	body := lifecycleBody{IsInput: true, Live: ok && !p.Ended()}

	data, err := json.Marshal(body)
	if err != nil {
		fail(w, http.StatusInternalServerError, "cannot encode lifecycle")

		return
	}

	hdr := w.Header()
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("Content-Length", fmt.Sprint(len(data)))

	if r.Method == http.MethodHead {
		return
	}

	w.Write(data)
}

// fail answers with status and a short text.
func fail(w http.ResponseWriter, status int, msg string) {
	hdr := w.Header()
	hdr.Set("Content-Type", "text/plain; charset=utf-8")
	hdr.Set("Cache-Control", errorCache)
	hdr.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	fmt.Fprintln(w, msg)
}
