package api

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/onair/onair/store"
)

// Limits of the views query.
const (
	// maxViewsRange is the longest since-until range one query may span.
	maxViewsRange = 31 * 24 * time.Hour

	// defaultViewsRange is the range when since is left out.
	defaultViewsRange = 24 * time.Hour
)

// viewSteps are the intervals of the views query.
var viewSteps = map[string]time.Duration{
	"minute": time.Minute,
	"hour":   time.Hour,
	"day":    24 * time.Hour,
}

// ViewsStore answers the analytics query; *store.Store satisfies it. The
// route answers 404 when the Server's Store does not implement it.
type ViewsStore interface {
	QueryViews(ctx context.Context, q store.ViewQuery) ([]store.ViewTotal, error)
}

// viewRowJSON is one row of the views query (SPEC.md section 4).
type viewRowJSON struct {
	Time          time.Time         `json:"time"`
	Dimensions    map[string]string `json:"dimensions"`
	MinutesViewed float64           `json:"minutesViewed"`
	Views         int64             `json:"views"`
}

// queryViews answers GET …/stream/analytics/views.
func (s *Server) queryViews(_ http.ResponseWriter, r *http.Request) (int, any, error) {
	vs, ok := s.Store.(ViewsStore)
	if !ok {
		return 0, nil, notFound("analytics are not kept by this node's store")
	}

	q, err := parseViewQuery(r, time.Now().UTC())
	if err != nil {
		return 0, nil, err
	}

	totals, err := vs.QueryViews(r.Context(), *q)
	if err != nil {
		return 0, nil, err
	}

	out := make([]viewRowJSON, 0, len(totals))
	for _, t := range totals {
		out = append(out, viewRowJSON{Time: t.Time, Dimensions: t.Dimensions,
			MinutesViewed: t.MediaSeconds / 60, Views: t.Views})
	}

	return http.StatusOK, out, nil
}

// parseViewQuery reads since, until (RFC 3339; until defaults to now, since
// to a day before until), interval (minute, hour or day; default minute) and
// dimensions (comma-separated or repeated).
func parseViewQuery(r *http.Request, now time.Time) (*store.ViewQuery, error) {
	v := r.URL.Query()
	q := &store.ViewQuery{Until: now, Step: time.Minute}

	for _, name := range []string{"since", "until"} {
		raw := v.Get(name)
		if raw == "" {
			continue
		}

		t, err := time.Parse(time.RFC3339, raw)
		if err != nil {
			return nil, badRequest("%s %.64q: want an RFC 3339 time", name, raw)
		}

		if name == "since" {
			q.Since = t.UTC()
		} else {
			q.Until = t.UTC()
		}
	}

	if q.Since.IsZero() {
		q.Since = q.Until.Add(-defaultViewsRange)
	}

	if !q.Since.Before(q.Until) {
		return nil, badRequest("since %s is not before until %s", q.Since.Format(time.RFC3339),
			q.Until.Format(time.RFC3339))
	}

	if q.Until.Sub(q.Since) > maxViewsRange {
		return nil, badRequest("since to until spans %v; at most 31 days",
			q.Until.Sub(q.Since).Round(time.Hour))
	}

	if iv := v.Get("interval"); iv != "" {
		step, ok := viewSteps[iv]
		if !ok {
			return nil, badRequest("interval %.32q: want minute, hour or day", iv)
		}

		q.Step = step
	}

	seen := map[string]bool{}

	for _, list := range v["dimensions"] {
		for _, d := range strings.Split(list, ",") {
			d = strings.TrimSpace(d)

			switch {
			case d == "":
			case !store.IsViewDimension(d):
				return nil, badRequest("dimension %.64q: want uid, liveInput, creator or "+
					"clientCountryName", d)
			case seen[d]:
				return nil, badRequest("dimension %.64q given twice", d)
			default:
				seen[d] = true
				q.Dimensions = append(q.Dimensions, d)
			}
		}
	}

	return q, nil
}
