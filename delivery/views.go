package delivery

import (
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/onair/onair/analytics"
	"github.com/onair/onair/packager"
)

// EdgeHeader marks a request an onair edge sends to its origin. The origin
// does not count it: the edge counts its own viewers and reports them, so
// that nothing is counted twice.
const EdgeHeader = "X-Onair-Edge"

// DurationHeader tells an edge how much media a segment or part holds for
// analytics (packager.Resource.Duration), in seconds.
const DurationHeader = "X-Onair-Duration"

// Viewing hears about playback for analytics; *analytics.Collector is one.
type Viewing interface {
	// Record counts one request served.
	Record(r analytics.Request)

	// LiveViewers returns how many sessions played uid lately.
	LiveViewers(uid string) int
}

// viewsBody is the JSON of /{id}/views.
type viewsBody struct {
	LiveViewers int `json:"liveViewers"`
}

// views answers the live viewer count of a uid, or 404 when its input hides
// it.
func (h *handler) views(w http.ResponseWriter, r *http.Request) {
	uid, ok := h.guard.Check(w, r, r.PathValue("id"))
	if !ok {
		return
	}

	pol, known := h.guard.policy(uid)
	if h.viewing == nil || (known && pol.HideLiveViewerCount) {
		fail(w, http.StatusNotFound, "no viewer count for this id")

		return
	}

	if _, live := h.presentations.Presentation(uid); !live && !known {
		fail(w, http.StatusNotFound, "no viewer count for this id")

		return
	}

	answerJSON(w, r, viewsBody{LiveViewers: h.viewing.LiveViewers(uid)}, "views")
}

// record counts a manifest, segment or part request served, unless an edge
// sent it.
func (h *handler) record(r *http.Request, id, uid string, res *packager.Resource) {
	if h.viewing == nil || r.Header.Get(EdgeHeader) != "" {
		return
	}

	media := res.Duration
	if r.Method == http.MethodHead {
		media = 0 // nothing was sent
	}

	h.viewing.Record(h.guard.ViewRequest(r, id, uid, media))
}

// ViewRequest is the analytics of a playback request for id (a uid or a
// token) that served uid with media of the given duration.
func (g *Guard) ViewRequest(r *http.Request, id, uid string,
	media time.Duration) analytics.Request {
	token := ""
	if id != uid {
		token = id
	}

	addr := ""
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		addr = ap.Addr().String()
	}

	pol, _ := g.policy(uid)

	return analytics.Request{
		UID:       uid,
		LiveInput: pol.LiveInput,
		Creator:   pol.Creator,
		Country:   g.country(r),
		Session:   analytics.SessionKey(token, addr, r.UserAgent(), uid),
		Media:     media,
	}
}

// mediaSeconds writes d as the DurationHeader value.
func mediaSeconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
}

// ParseMediaSeconds reads a DurationHeader value; 0 when absent or bad.
func ParseMediaSeconds(v string) time.Duration {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f <= 0 || f > 3600 {
		return 0
	}

	return time.Duration(f * float64(time.Second))
}
