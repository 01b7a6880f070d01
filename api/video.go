package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/onair/onair/store"
)

// Videos lists, reads and deletes the recorded broadcasts.
type Videos interface {
	ListVideos(ctx context.Context, f store.VideoFilter) ([]*store.Video, error)

	// GetVideo returns the video uid or an error wrapping store.ErrNotFound.
	GetVideo(ctx context.Context, uid string) (*store.Video, error)

	// DeleteVideo removes a video's files and its row. It fails with
	// ErrVideoLive while its broadcast goes on.
	DeleteVideo(ctx context.Context, uid string) error

	// UpdateVideo applies change to video uid in one transaction and returns
	// the stored result; an error from change leaves the video as it was.
	UpdateVideo(ctx context.Context, uid string,
		change func(v *store.Video) error) (*store.Video, error)
}

// ErrVideoLive is returned by Videos.DeleteVideo for a video whose broadcast
// is going on; the API answers 409.
var ErrVideoLive = errors.New("video is being recorded")

// videoJSON is a video in Cloudflare Stream's shape.
type videoJSON struct {
	UID                   string          `json:"uid"`
	Creator               *string         `json:"creator"`
	Thumbnail             string          `json:"thumbnail"`
	ThumbnailTimestampPct float64         `json:"thumbnailTimestampPct"`
	ReadyToStream         bool            `json:"readyToStream"`
	ReadyToStreamAt       *time.Time      `json:"readyToStreamAt"`
	Status                videoStatusJSON `json:"status"`
	Meta                  map[string]any  `json:"meta"`
	Created               time.Time       `json:"created"`
	Modified              time.Time       `json:"modified"`
	ScheduledDeletion     *time.Time      `json:"scheduledDeletion"`
	Size                  int64           `json:"size"`
	AllowedOrigins        []string        `json:"allowedOrigins"`
	RequireSignedURLs     bool            `json:"requireSignedURLs"`
	Uploaded              time.Time       `json:"uploaded"`
	Duration              float64         `json:"duration"`
	Input                 videoInputJSON  `json:"input"`
	Playback              playbackJSON    `json:"playback"`
	LiveInput             string          `json:"liveInput"`
}

type videoStatusJSON struct {
	State           string `json:"state"`
	PctComplete     string `json:"pctComplete,omitempty"`
	ErrorReasonCode string `json:"errorReasonCode"`
	ErrorReasonText string `json:"errorReasonText"`
}

type videoInputJSON struct {
	Width  int `json:"width"`
	Height int `json:"height"`
}

type playbackJSON struct {
	HLS  string `json:"hls"`
	DASH string `json:"dash"`
}

// VideoObject returns the API object of v, with its playback URLs under base,
// as webhooks send it when a recording becomes ready.
func VideoObject(v *store.Video, base string) any {
	return newVideoJSON(v, base)
}

// newVideoJSON describes v with its playback URLs under base.
func newVideoJSON(v *store.Video, base string) videoJSON {
	base = strings.TrimSuffix(base, "/") + "/" + v.UID
	meta := v.Meta
	if meta == nil {
		meta = map[string]any{}
	}

	out := videoJSON{
		UID:           v.UID,
		Thumbnail:     base + "/thumbnails/thumbnail.jpg",
		ReadyToStream: true,
		Status: videoStatusJSON{State: v.State, ErrorReasonCode: v.ErrorCode,
			ErrorReasonText: v.ErrorText},
		Meta:              meta,
		Created:           v.Created,
		Modified:          v.Modified,
		ScheduledDeletion: v.ScheduledDeletion,
		Size:              v.Size,
		AllowedOrigins:    append([]string{}, v.AllowedOrigins...),
		RequireSignedURLs: v.RequireSignedURLs,
		Uploaded:          v.Created,
		Duration:          v.Duration,
		Input:             videoInputJSON{Width: v.Width, Height: v.Height},
		Playback: playbackJSON{HLS: base + "/manifest/video.m3u8",
			DASH: base + "/manifest/video.mpd"},
		LiveInput: v.LiveInput,
	}

	if v.Creator != "" {
		out.Creator = &v.Creator
	}

	if v.State == store.VideoReady {
		out.ReadyToStreamAt = &v.Modified
		out.Status.PctComplete = "100.000000"
	}

	return out
}

func (s *Server) videoList(list []*store.Video) []videoJSON {
	out := make([]videoJSON, 0, len(list))
	for _, v := range list {
		out = append(out, newVideoJSON(v, s.URLs.PublicURL))
	}

	return out
}

// listVideos answers GET /stream with Cloudflare's filters: type (live or
// vod), creator, start and end (RFC 3339, on created), asc.
func (s *Server) listVideos(_ http.ResponseWriter, r *http.Request) (int, any, error) {
	f, err := videoFilter(r)
	if err != nil {
		return 0, nil, err
	}

	list, err := s.Videos.ListVideos(r.Context(), f)
	if err != nil {
		return 0, nil, err
	}

	return http.StatusOK, s.videoList(list), nil
}

func videoFilter(r *http.Request) (store.VideoFilter, error) {
	q := r.URL.Query()
	f := store.VideoFilter{Creator: q.Get("creator")}

	switch q.Get("type") {
	case "":
	case "live":
		f.State = store.VideoLive
	case "vod":
		f.State = store.VideoReady
	default:
		return f, badRequest("type %.20q is not live or vod", q.Get("type"))
	}

	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"start", &f.Start}, {"end", &f.End}} {
		if v := q.Get(p.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return f, badRequest("%s %.40q is not an RFC 3339 time", p.name, v)
			}

			*p.dst = t
		}
	}

	if v := q.Get("asc"); v != "" {
		asc, err := strconv.ParseBool(v)
		if err != nil {
			return f, badRequest("asc %.20q is not true or false", v)
		}

		f.Asc = asc
	}

	return f, nil
}

// listInputVideos answers GET /live_inputs/{uid}/videos.
func (s *Server) listInputVideos(_ http.ResponseWriter, r *http.Request) (int, any, error) {
	uid := r.PathValue("uid")
	if _, err := s.Store.GetLiveInput(r.Context(), uid); err != nil {
		return 0, nil, err
	}

	list, err := s.Videos.ListVideos(r.Context(), store.VideoFilter{LiveInput: uid})
	if err != nil {
		return 0, nil, err
	}

	return http.StatusOK, s.videoList(list), nil
}

func (s *Server) getVideo(_ http.ResponseWriter, r *http.Request) (int, any, error) {
	v, err := s.Videos.GetVideo(r.Context(), r.PathValue("video"))
	if err != nil {
		return 0, nil, videoError(r, err)
	}

	return http.StatusOK, newVideoJSON(v, s.URLs.PublicURL), nil
}

func (s *Server) deleteVideo(_ http.ResponseWriter, r *http.Request) (int, any, error) {
	uid := r.PathValue("video")
	if err := s.Videos.DeleteVideo(r.Context(), uid); err != nil {
		return 0, nil, videoError(r, err)
	}

	s.logger().Info("video deleted", "video", uid)

	return http.StatusOK, nil, nil
}

// videoError names the video in a not-found answer and turns ErrVideoLive
// into 409.
func videoError(r *http.Request, err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return notFound("video %.64q not found", r.PathValue("video"))
	case errors.Is(err, ErrVideoLive):
		return &apiError{http.StatusConflict, CodeConflict,
			"video is being recorded: delete it after its broadcast ends"}
	}

	return err
}

// videoHandler serves /stream/{video}. It is mounted without a method in its
// pattern, so that it does not conflict with the literal routes beside it
// (/stream/live_inputs), and picks the method itself.
func (s *Server) videoHandler() http.Handler {
	get, del := s.serve(s.getVideo), s.serve(s.deleteVideo)
	edit := s.serve(s.editVideo)
	allowed := methodNotAllowed("DELETE, GET, POST")

	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			get.ServeHTTP(w, r)
		case http.MethodPost:
			edit.ServeHTTP(w, r)
		case http.MethodDelete:
			del.ServeHTTP(w, r)
		default:
			allowed.ServeHTTP(w, r)
		}
	})
}

// videoRoutes are the list routes of videos; inputs is the live inputs' path.
func (s *Server) videoRoutes(inputs string) []route {
	return []route{
		{prefix + "/accounts/{account}/stream", map[string]handlerFunc{
			http.MethodGet: s.listVideos,
		}},
		{inputs + "/{uid}/videos", map[string]handlerFunc{
			http.MethodGet: s.listInputVideos,
		}},
	}
}
