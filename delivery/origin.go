package delivery

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
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

	// blockedCache is for playlists answered after a blocking reload: every
	// later answer to the same query also holds the part asked for, so a
	// cache may share one for as long as the playlist's segments last.
	blockedCache = "public, max-age=6"
)

// ClockPath is the path of the origin's clock, the DASH UTCTiming source.
const ClockPath = "/time"

// clockFromManifest is ClockPath relative to /{id}/manifest/video.mpd: DASH
// players resolve UTCTiming URLs against the MPD's, so it works through any
// edge in front.
const clockFromManifest = "../.." + ClockPath

// blockTargets is how many target durations a blocking playlist reload or a
// preload hint's part waits (RFC 8216bis 6.2.5.2), after which a playlist
// answers 503 and a part 404.
const blockTargets = 3

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

	// BlockTimeout bounds how long a blocking reload or a preload hint's
	// part waits. Zero means three target durations of the presentation.
	BlockTimeout time.Duration

	// Guard, when set, enforces signed URLs and allowed origins.
	Guard *Guard

	// Viewing, when set, counts playback and answers /{id}/views.
	Viewing Viewing

	// Downloads, when set, serves /{id}/downloads/default.mp4.
	Downloads Downloads

	// Still, when set, serves /{id}/thumbnails/thumbnail.jpg.
	Still StillFunc
}

// Handler returns the handler of the playback paths: /{id}/manifest/...,
// /{id}/lifecycle and the clock at ClockPath.
func (o *Origin) Handler() http.Handler {
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}

	h := &handler{presentations: o.Presentations, log: log, timeout: o.BlockTimeout,
		guard: o.Guard, viewing: o.Viewing,
		downloads: o.Downloads, still: o.Still, stills: &stillCache{}}

	mux := http.NewServeMux()
	mux.HandleFunc("/{id}/manifest/{uri...}", h.manifest)
	mux.HandleFunc("/{id}/lifecycle", h.lifecycle)
	mux.HandleFunc("/{id}/views", h.views)
	mux.HandleFunc("/{id}/downloads/{file}", h.download)
	mux.HandleFunc("/{id}/thumbnails/{file}", h.thumbnail)
	mux.HandleFunc(ClockPath, clock)

	return cors(mux)
}

// handler holds what the playback handlers share.
type handler struct {
	presentations Presentations
	log           *slog.Logger
	timeout       time.Duration
	guard         *Guard
	viewing       Viewing
	downloads     Downloads
	still         StillFunc
	stills        *stillCache
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
	id, ok := h.guard.Check(w, r, r.PathValue("id"))
	if !ok {
		return
	}

	p, ok := h.presentations.Presentation(id)
	if !ok {
		fail(w, http.StatusNotFound, "no live presentation for this id")

		return
	}

	req, err := playbackRequest(r.PathValue("uri"), r.URL.Query())
	if err != nil {
		fail(w, http.StatusBadRequest, err.Error())

		return
	}

	timeout := h.timeout
	if timeout <= 0 {
		timeout = blockTargets * p.TargetDuration()
	}

	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()

	res, err := p.Serve(ctx, req)

	switch {
	case errors.Is(err, packager.ErrNotFound):
		fail(w, http.StatusNotFound, "not found")

		return

	case errors.Is(err, packager.ErrTooFarAhead):
		fail(w, http.StatusBadRequest, "_HLS_msn or _HLS_part too far ahead of the live edge")

		return

	case errors.Is(err, context.DeadlineExceeded) && req.Reload == nil:
		fail(w, http.StatusNotFound, "part not written in time")

		return

	case errors.Is(err, context.DeadlineExceeded):
		// RFC 8216bis 6.2.5.2: the part did not come within three target
		// durations.
		fail(w, http.StatusServiceUnavailable, "part not written in time")

		return

	case r.Context().Err() != nil:
		return // the player went away
	}

	if err != nil {
		h.log.Warn("playback read failed", "id", id, "uri", r.PathValue("uri"), "error", err)
		fail(w, http.StatusInternalServerError, "cannot read this resource")

		return
	}

	hdr := w.Header()
	hdr.Set("Content-Type", contentType(res))
	hdr.Set("ETag", etag(res.Data))

	switch {
	case res.Kind == packager.KindInit || res.Kind == packager.KindSegment ||
		res.Kind == packager.KindPart:
		hdr.Set("Cache-Control", segmentCache)
	case res.Blocked:
		hdr.Set("Cache-Control", blockedCache)
	default:
		hdr.Set("Cache-Control", playlistCache)
	}

	if res.Duration > 0 {
		hdr.Set(DurationHeader, mediaSeconds(res.Duration))
	}

	h.record(r, r.PathValue("id"), id, res)

	// ServeContent answers HEAD, Range and If-None-Match.
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(res.Data))
}

// playbackRequest reads what the query string of a playback request asks:
// protocol=llhls on the multivariant playlist, and the blocking reload of an
// LL-HLS media playlist, _HLS_msn with an optional _HLS_part (RFC 8216bis
// 6.2.5.2; _HLS_skip is ignored: no playlist offers skipping). Part URIs
// wait for their part, as preload hints ask (RFC 8216bis 6.2.5.3).
func playbackRequest(uri string, q url.Values) (packager.Request, error) {
	req := packager.Request{
		URI:        uri,
		LowLatency: q.Get("protocol") == "llhls",
		Wait:       true,
		ClockURL:   clockFromManifest,
	}

	msn, part := q.Get("_HLS_msn"), q.Get("_HLS_part")
	if msn == "" && part == "" {
		return req, nil
	}

	if msn == "" {
		return req, errors.New("_HLS_part without _HLS_msn")
	}

	n, err := strconv.ParseUint(msn, 10, 64)
	if err != nil {
		return req, fmt.Errorf("_HLS_msn %.20q is not a media sequence number", msn)
	}

	req.Reload = &packager.Reload{MSN: n, Part: -1}

	if part != "" {
		m, err := strconv.ParseUint(part, 10, 31)
		if err != nil {
			return req, fmt.Errorf("_HLS_part %.20q is not a part index", part)
		}

		req.Reload.Part = int(m)
	}

	return req, nil
}

// contentType returns the media type of a resource (RFC 8216 4, RFC 4337,
// ISO/IEC 23009-1 C.1).
func contentType(res *packager.Resource) string {
	switch {
	case res.Kind == packager.KindMultivariant || res.Kind == packager.KindMediaPlaylist:
		return "application/vnd.apple.mpegurl"
	case res.Kind == packager.KindMPD:
		return "application/dash+xml"
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
	id, ok := h.guard.Check(w, r, r.PathValue("id"))
	if !ok {
		return
	}

	answerJSON(w, r, h.lifecycleOf(id), "lifecycle")
}

// answerJSON writes v as a JSON answer that caches must revalidate; what
// names v in the error if it cannot be encoded.
func answerJSON(w http.ResponseWriter, r *http.Request, v any, what string) {
	data, err := json.Marshal(v)
	if err != nil {
		fail(w, http.StatusInternalServerError, "cannot encode "+what)

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

// clock answers the time, in ISO 8601 UTC with milliseconds, for DASH
// players' UTCTiming (urn:mpeg:dash:utc:http-iso:2014).
func clock(w http.ResponseWriter, r *http.Request) {
	body := time.Now().UTC().Format("2006-01-02T15:04:05.000Z")

	hdr := w.Header()
	hdr.Set("Content-Type", "text/plain; charset=utf-8")
	hdr.Set("Cache-Control", errorCache)
	hdr.Set("Content-Length", strconv.Itoa(len(body)))

	if r.Method == http.MethodHead {
		return
	}

	w.Write([]byte(body))
}
