package api

import (
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/onair/onair/store"
)

// liveInputJSON is a live input as the list shows it: no credentials.
type liveInputJSON struct {
	UID                      string         `json:"uid"`
	Created                  time.Time      `json:"created"`
	Modified                 time.Time      `json:"modified"`
	Meta                     map[string]any `json:"meta"`
	Enabled                  bool           `json:"enabled"`
	DefaultCreator           string         `json:"defaultCreator"`
	DeleteRecordingAfterDays *int           `json:"deleteRecordingAfterDays"`
	Recording                recordingJSON  `json:"recording"`
	Status                   *statusJSON    `json:"status"`
	KeysRotatedAt            *time.Time     `json:"keysRotatedAt"`
}

// liveInputDetailJSON is one live input with its credentials and URLs. A URL
// block is null when its listener is off.
type liveInputDetailJSON struct {
	liveInputJSON

	RTMP          *rtmpJSON `json:"rtmp"`
	RTMPS         *rtmpJSON `json:"rtmps"`
	RTMPSPlayback *rtmpJSON `json:"rtmpsPlayback"`
	SRT           *srtJSON  `json:"srt"`
	SRTPlayback   *srtJSON  `json:"srtPlayback"`
	Transcode     any       `json:"transcode,omitempty"`
}

type recordingJSON struct {
	Mode                string   `json:"mode"`
	TimeoutSeconds      int      `json:"timeoutSeconds"`
	RequireSignedURLs   bool     `json:"requireSignedURLs"`
	AllowedOrigins      []string `json:"allowedOrigins"`
	HideLiveViewerCount bool     `json:"hideLiveViewerCount"`
}

type rtmpJSON struct {
	URL       string `json:"url"`
	StreamKey string `json:"streamKey"`
}

type srtJSON struct {
	URL        string `json:"url"`
	StreamID   string `json:"streamId"`
	Passphrase string `json:"passphrase"`
}

// statusJSON follows Cloudflare's shape: the state is under "current".
type statusJSON struct {
	Current statusCurrentJSON `json:"current"`
}

type statusCurrentJSON struct {
	State           string    `json:"state"`
	Reason          string    `json:"reason"`
	StatusEnteredAt time.Time `json:"statusEnteredAt"`
}

// liveInputListJSON is the list's result, in Cloudflare's shape.
type liveInputListJSON struct {
	LiveInputs []liveInputJSON `json:"liveInputs"`
	Range      int             `json:"range"`
	Total      int             `json:"total"`
}

func newLiveInputJSON(in *store.LiveInput) liveInputJSON {
	origins := in.Recording.AllowedOrigins
	if origins == nil {
		origins = []string{}
	}

	meta := in.Meta
	if meta == nil {
		meta = map[string]any{}
	}

	out := liveInputJSON{
		UID: in.UID, Created: in.Created, Modified: in.Modified, Meta: meta,
		Enabled: in.Enabled, DefaultCreator: in.DefaultCreator,
		DeleteRecordingAfterDays: in.DeleteRecordingAfterDays,
		Recording: recordingJSON{
			Mode:                in.Recording.Mode,
			TimeoutSeconds:      in.Recording.TimeoutSeconds,
			RequireSignedURLs:   in.Recording.RequireSignedURLs,
			AllowedOrigins:      origins,
			HideLiveViewerCount: in.Recording.HideLiveViewerCount,
		},
	}

	if !in.KeysRotatedAt.IsZero() {
		out.KeysRotatedAt = &in.KeysRotatedAt
	}

	if in.Status != nil {
		out.Status = &statusJSON{Current: statusCurrentJSON{State: in.Status.State,
			Reason: in.Status.Reason, StatusEnteredAt: in.Status.Time}}
	}

	return out
}

// detail is in with its credentials and the URL blocks of the listeners
// that are on.
func (s *Server) detail(in *store.LiveInput) *liveInputDetailJSON {
	out := &liveInputDetailJSON{liveInputJSON: newLiveInputJSON(in)}
	host := s.ingestHost()

	if p := s.URLs.RTMPPort; p != 0 {
		out.RTMP = &rtmpJSON{"rtmp://" + hostPort(host, p) + "/live/", in.StreamKey}
	}

	if p := s.URLs.RTMPSPort; p != 0 {
		u := "rtmps://" + hostPort(host, p) + "/live/"
		out.RTMPS = &rtmpJSON{u, in.StreamKey}
		out.RTMPSPlayback = &rtmpJSON{u, in.PlaybackKey}
	}

	if p := s.URLs.SRTPort; p != 0 {
		u := "srt://" + hostPort(host, p)
		out.SRT = &srtJSON{u, in.SRTStreamID, in.SRTPassphrase}
		out.SRTPlayback = &srtJSON{u, in.SRTPlaybackStreamID, in.SRTPlaybackPassphrase}
	}

	return out
}

// ingestHost is URLs.IngestHost, else the host of URLs.PublicURL, else
// localhost.
func (s *Server) ingestHost() string {
	if s.URLs.IngestHost != "" {
		return s.URLs.IngestHost
	}

	if u, err := url.Parse(s.URLs.PublicURL); err == nil && u.Hostname() != "" {
		return u.Hostname()
	}

	return "localhost"
}

// hostPort joins host and port, bracketing an IPv6 host.
func hostPort(host string, port int) string {
	return net.JoinHostPort(host, strconv.Itoa(port))
}

func (s *Server) createLiveInput(w http.ResponseWriter, r *http.Request) (int, any, error) {
	body, err := readBody(w, r)
	if err != nil {
		return 0, nil, err
	}

	p, err := parsePatch(body)
	if err != nil {
		return 0, nil, err
	}

	in := &store.LiveInput{Enabled: true, Meta: map[string]any{},
		Recording: store.Recording{Mode: store.RecordingAutomatic, AllowedOrigins: []string{}}}
	p.apply(in)

	if err := s.Store.CreateLiveInput(r.Context(), in); err != nil {
		return 0, nil, err
	}

	s.logger().Info("live input created", "input", in.UID)
	s.changed(in)

	return http.StatusOK, s.detail(in), nil
}

func (s *Server) listLiveInputs(_ http.ResponseWriter, r *http.Request) (int, any, error) {
	list, err := s.Store.ListLiveInputs(r.Context())
	if err != nil {
		return 0, nil, err
	}

	out := liveInputListJSON{LiveInputs: make([]liveInputJSON, 0, len(list)),
		Range: len(list), Total: len(list)}
	for _, in := range list {
		out.LiveInputs = append(out.LiveInputs, newLiveInputJSON(in))
	}

	return http.StatusOK, out, nil
}

func (s *Server) getLiveInput(_ http.ResponseWriter, r *http.Request) (int, any, error) {
	in, err := s.Store.GetLiveInput(r.Context(), r.PathValue("uid"))
	if err != nil {
		return 0, nil, err
	}

	out := s.detail(in)
	if s.Live != nil {
		out.Transcode = s.Live.LiveInfo(in.UID)
	}

	return http.StatusOK, out, nil
}

// updateLiveInput changes only the fields the body has, recording's included
// one by one; deleteRecordingAfterDays: null clears it.
func (s *Server) updateLiveInput(w http.ResponseWriter, r *http.Request) (int, any, error) {
	body, err := readBody(w, r)
	if err != nil {
		return 0, nil, err
	}

	p, err := parsePatch(body)
	if err != nil {
		return 0, nil, err
	}

	in, err := s.Store.UpdateLiveInput(r.Context(), r.PathValue("uid"),
		func(in *store.LiveInput) error {
			p.apply(in)

			return nil
		})
	if err != nil {
		return 0, nil, err
	}

	s.logger().Info("live input updated", "input", in.UID, "enabled", in.Enabled)
	s.changed(in)

	return http.StatusOK, s.detail(in), nil
}

func (s *Server) deleteLiveInput(_ http.ResponseWriter, r *http.Request) (int, any, error) {
	uid := r.PathValue("uid")
	if err := s.Store.DeleteLiveInput(r.Context(), uid); err != nil {
		return 0, nil, err
	}

	s.logger().Info("live input deleted", "input", uid)

	if s.Notify != nil {
		s.Notify.InputDeleted(uid)
	}

	return http.StatusOK, nil, nil
}

func (s *Server) rotateKeys(_ http.ResponseWriter, r *http.Request) (int, any, error) {
	in, err := s.Store.RotateKeys(r.Context(), r.PathValue("uid"))
	if err != nil {
		return 0, nil, err
	}

	s.logger().Info("live input keys rotated", "input", in.UID)
	s.changed(in)

	return http.StatusOK, s.detail(in), nil
}

// changed tells Notify about a committed change.
func (s *Server) changed(in *store.LiveInput) {
	if s.Notify != nil {
		s.Notify.InputChanged(in)
	}
}
