package delivery

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/onair/onair/packager"
)

// Limits of thumbnail requests.
const (
	// maxStillSide bounds width and height, so that a request cannot make
	// the origin scale to any size.
	maxStillSide = 4096

	// stillCacheEntries is how many stills the origin keeps.
	stillCacheEntries = 256

	thumbnailName = "thumbnail.jpg"
)

// StillFunc decodes the picture at offset into a video segment (with its init
// segment) and returns it as a JPEG sized width x height as fit says;
// transcode.Still is one.
type StillFunc func(init, segment []byte, offset time.Duration, width, height int,
	fit string) ([]byte, error)

// stillRequest is what the query of a thumbnail asks.
type stillRequest struct {
	at            time.Duration
	timed         bool // time was given
	width, height int
	fit           string
}

// parseStill reads time, width, height and fit (crop, clip, scale or fill;
// crop by default), as Cloudflare Stream's thumbnails take them.
func parseStill(q url.Values) (stillRequest, error) {
	req := stillRequest{fit: "crop"}

	if v := q.Get("time"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return req, fmt.Errorf("time %.20q is not a duration such as 12s or 1m30s", v)
		}

		req.at, req.timed = d, true
	}

	for _, p := range []struct {
		name string
		dst  *int
	}{{"width", &req.width}, {"height", &req.height}} {
		v := q.Get(p.name)
		if v == "" {
			continue
		}

		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxStillSide {
			return req, fmt.Errorf("%s %.20q is not a whole number of pixels from 1 to %d",
				p.name, v, maxStillSide)
		}

		*p.dst = n
	}

	switch v := q.Get("fit"); v {
	case "":
	case "crop", "clip", "scale", "fill":
		req.fit = v
	default:
		return req, fmt.Errorf("fit %.20q is not crop, clip, scale or fill", v)
	}

	return req, nil
}

// stillCache keeps recent stills by segment and request.
type stillCache struct {
	mu    sync.Mutex
	items map[string][]byte
}

func (c *stillCache) get(key string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()

	data, ok := c.items[key]

	return data, ok
}

func (c *stillCache) put(key string, data []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()

	if c.items == nil {
		c.items = map[string][]byte{}
	}

	// Forget an arbitrary half when full: stills are cheap to make again.
	if len(c.items) >= stillCacheEntries {
		for k := range c.items {
			delete(c.items, k)

			if len(c.items) < stillCacheEntries/2 {
				break
			}
		}
	}

	c.items[key] = data
}

// thumbnail serves /{id}/thumbnails/thumbnail.jpg: a live input's latest
// keyframe, or the picture at time of a video (or of a live input's
// window).
func (h *handler) thumbnail(w http.ResponseWriter, r *http.Request) {
	if h.still == nil || r.PathValue("file") != thumbnailName {
		fail(w, http.StatusNotFound, "not found")

		return
	}

	req, err := parseStill(r.URL.Query())
	if err != nil {
		fail(w, http.StatusBadRequest, err.Error())

		return
	}

	id, ok := h.guard.Check(w, r, r.PathValue("id"))
	if !ok {
		return
	}

	p, ok := h.presentations.Presentation(id)
	if !ok {
		fail(w, http.StatusNotFound, "no presentation for this id")

		return
	}

	latest := !req.timed && !p.Ended()

	src, err := p.Still(req.at, latest)
	if errors.Is(err, packager.ErrNotFound) {
		fail(w, http.StatusNotFound, "no picture yet")

		return
	}

	if err != nil {
		h.log.Warn("thumbnail failed", "id", id, "error", err)
		fail(w, http.StatusInternalServerError, "cannot read the picture")

		return
	}

	key := fmt.Sprintf("%s@%d/%dx%d/%s", src.Key, src.Offset, req.width, req.height, req.fit)

	data, ok := h.stills.get(key)
	if !ok {
		data, err = h.still(src.Init, src.Segment, src.Offset, req.width, req.height, req.fit)
		if err != nil {
			h.log.Warn("thumbnail failed", "id", id, "error", err)
			fail(w, http.StatusInternalServerError, "cannot decode the picture")

			return
		}

		h.stills.put(key, data)
	}

	hdr := w.Header()
	hdr.Set("Content-Type", "image/jpeg")
	hdr.Set("Content-Length", strconv.Itoa(len(data)))

	// A live input's latest keyframe changes with every segment.
	if latest {
		hdr.Set("Cache-Control", playlistCache)
	} else {
		hdr.Set("Cache-Control", "public, max-age=3600")
	}

	if r.Method == http.MethodHead {
		return
	}

	w.Write(data)
}
