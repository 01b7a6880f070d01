package delivery

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"time"

	"github.com/onair/onair/analytics"
)

// EdgePath is where an origin answers its edges (EdgeAPI).
const EdgePath = "/.onair/edge/"

// Limits of a view report.
const (
	maxReportBytes = 4 << 20
	maxReportViews = 20_000
)

// policyJSON is a Policy on the wire between origin and edge.
type policyJSON struct {
	RequireSignedURLs   bool     `json:"requireSignedURLs"`
	AllowedOrigins      []string `json:"allowedOrigins"`
	HideLiveViewerCount bool     `json:"hideLiveViewerCount"`
	LiveInput           string   `json:"liveInput"`
	Creator             string   `json:"creator"`
}

// keyJSON is a public signing key on the wire.
type keyJSON struct {
	PEM string `json:"pem"`
}

// viewJSON is an analytics.Request on the wire.
type viewJSON struct {
	Time         time.Time `json:"time"`
	UID          string    `json:"uid"`
	LiveInput    string    `json:"liveInput"`
	Creator      string    `json:"creator"`
	Country      string    `json:"country"`
	Session      string    `json:"session"`
	MediaSeconds float64   `json:"mediaSeconds"`
}

// EdgeAPI answers edges: the playback rules of a uid, the public half of a
// signing key, and the reports of the views they served. Every request needs
// the bearer Token.
type EdgeAPI struct {
	// Token is the edges' bearer token; empty refuses every request.
	Token string

	// Access gives the rules and keys.
	Access Access

	// Viewing counts the views edges report; nil drops them.
	Viewing Viewing
}

// Handler returns the handler of the paths under EdgePath.
func (e *EdgeAPI) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+EdgePath+"policy/{uid}", e.policy)
	mux.HandleFunc("GET "+EdgePath+"key/{kid}", e.key)
	mux.HandleFunc("POST "+EdgePath+"views", e.views)

	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !BearerMatches(r, e.Token) {
			fail(w, http.StatusUnauthorized, "edge token missing or wrong")

			return
		}

		mux.ServeHTTP(w, r)
	})
}

func (e *EdgeAPI) policy(w http.ResponseWriter, r *http.Request) {
	pol, ok := e.Access.Policy(r.PathValue("uid"))
	if !ok {
		fail(w, http.StatusNotFound, "no such uid")

		return
	}

	writeJSON(w, policyJSON{pol.RequireSignedURLs, pol.AllowedOrigins, pol.HideLiveViewerCount,
		pol.LiveInput, pol.Creator})
}

func (e *EdgeAPI) key(w http.ResponseWriter, r *http.Request) {
	pub, ok := e.Access.PublicKey(r.PathValue("kid"))
	if !ok {
		fail(w, http.StatusNotFound, "no such key")

		return
	}

	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		fail(w, http.StatusInternalServerError, "cannot encode the key")

		return
	}

	writeJSON(w, keyJSON{string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))})
}

func (e *EdgeAPI) views(w http.ResponseWriter, r *http.Request) {
	var report []viewJSON

	err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxReportBytes)).Decode(&report)

	var tooLarge *http.MaxBytesError

	switch {
	case errors.As(err, &tooLarge) || len(report) > maxReportViews:
		fail(w, http.StatusRequestEntityTooLarge, "report too large")

		return
	case err != nil:
		fail(w, http.StatusBadRequest, "report is not a JSON array of views")

		return
	}

	if e.Viewing != nil {
		for _, v := range report {
			e.Viewing.Record(analytics.Request{Time: v.Time, UID: v.UID, LiveInput: v.LiveInput,
				Creator: v.Creator, Country: v.Country, Session: v.Session,
				Media: time.Duration(v.MediaSeconds * float64(time.Second))})
		}
	}

	w.WriteHeader(http.StatusNoContent)
}

// writeJSON answers v as JSON that no cache keeps.
func writeJSON(w http.ResponseWriter, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		fail(w, http.StatusInternalServerError, "cannot encode the answer")

		return
	}

	hdr := w.Header()
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Cache-Control", "no-store")
	w.Write(data)
}
