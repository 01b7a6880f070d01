package api

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/onair/onair/store"
)

// minScheduledDeletion is how long after its creation a video may be set to
// be deleted at the earliest, as Cloudflare Stream requires.
const minScheduledDeletion = 30 * 24 * time.Hour

// videoPatch is a validated body of POST /stream/{video}: the fields present
// change, the others are kept.
type videoPatch struct {
	meta          map[string]any
	creator       *string
	requireSigned *bool
	origins       []string // nil: left out
	hasDeletion   bool
	deletion      *time.Time // nil with hasDeletion: cleared
}

// parseVideoPatch validates a whole body before anything is applied.
func parseVideoPatch(body []byte) (*videoPatch, error) {
	p := &videoPatch{}

	err := eachField(body, func(name string, raw json.RawMessage) (err error) {
		switch name {
		case "meta":
			p.meta, err = parseMeta(raw)
		case "creator":
			p.creator, err = parseCreator(raw, name)
		case "requireSignedURLs":
			p.requireSigned, err = decodeField[bool](raw, name, "a boolean")
		case "allowedOrigins":
			p.origins, err = parseOrigins(raw, name)
		case "scheduledDeletion":
			p.hasDeletion = true
			p.deletion, err = parseDeletion(raw)
		default:
			err = badRequest("unknown field %.64q", name)
		}

		return err
	})
	if err != nil {
		return nil, err
	}

	return p, nil
}

// parseDeletion reads scheduledDeletion: an RFC 3339 time, or null.
func parseDeletion(raw json.RawMessage) (*time.Time, error) {
	if isNull(raw) {
		return nil, nil
	}

	s, err := decodeField[string](raw, "scheduledDeletion", "an RFC 3339 time or null")
	if err != nil {
		return nil, err
	}

	t, err := time.Parse(time.RFC3339, *s)
	if err != nil {
		return nil, badRequest("field scheduledDeletion %.40q is not an RFC 3339 time", *s)
	}

	t = t.UTC()

	return &t, nil
}

// apply changes v; a scheduled deletion too soon after the video's creation
// is refused.
func (p *videoPatch) apply(v *store.Video) error {
	if p.hasDeletion && p.deletion != nil && p.deletion.Before(v.Created.Add(minScheduledDeletion)) {
		return badRequest("field scheduledDeletion must be at least %d days after the video's "+
			"creation (%s)", int(minScheduledDeletion.Hours()/24), v.Created.Format(time.RFC3339))
	}

	if p.meta != nil {
		v.Meta = p.meta
	}

	setIf(&v.Creator, p.creator)
	setIf(&v.RequireSignedURLs, p.requireSigned)

	if p.origins != nil {
		v.AllowedOrigins = p.origins
	}

	if p.hasDeletion {
		v.ScheduledDeletion = p.deletion
	}

	return nil
}

// editVideo answers POST /stream/{video}: it edits the video's details.
func (s *Server) editVideo(w http.ResponseWriter, r *http.Request) (int, any, error) {
	body, err := readBody(w, r)
	if err != nil {
		return 0, nil, err
	}

	p, err := parseVideoPatch(body)
	if err != nil {
		return 0, nil, err
	}

	v, err := s.Videos.UpdateVideo(r.Context(), r.PathValue("video"), p.apply)
	if err != nil {
		return 0, nil, videoError(r, err)
	}

	return http.StatusOK, newVideoJSON(v, s.URLs.PublicURL), nil
}
