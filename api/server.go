package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path"
	"slices"
	"strings"

	"github.com/onair/onair/store"
)

// Store is the state the API reads and writes; *store.Store satisfies it.
type Store interface {
	CreateLiveInput(ctx context.Context, in *store.LiveInput) error
	GetLiveInput(ctx context.Context, uid string) (*store.LiveInput, error)
	ListLiveInputs(ctx context.Context) ([]*store.LiveInput, error)
	UpdateLiveInput(ctx context.Context, uid string,
		apply func(in *store.LiveInput) error) (*store.LiveInput, error)
	DeleteLiveInput(ctx context.Context, uid string) error
	RotateKeys(ctx context.Context, uid string) (*store.LiveInput, error)
}

// Notifier hears about every committed change to a live input, so that the
// wiring can cut off a publisher whose input was disabled, deleted or had its
// keys rotated. Calls are made on the request's goroutine after the change is
// committed and must not block for long.
type Notifier interface {
	// InputChanged is called after a create, an update or a key rotation,
	// with the input as stored.
	InputChanged(in *store.LiveInput)

	// InputDeleted is called after a delete.
	InputDeleted(uid string)
}

// LiveReporter adds live state to the GET of one live input.
type LiveReporter interface {
	// LiveInfo returns a JSON-encodable value put under "transcode" (the
	// encoder in use, the active rungs), or nil to leave the key out.
	LiveInfo(uid string) any
}

// URLs says where encoders and players reach this node, for the URL blocks of
// a live input.
type URLs struct {
	// IngestHost is the host written into rtmp://, rtmps:// and srt:// URLs.
	// Empty means the host of PublicURL, then "localhost".
	IngestHost string

	// RTMPPort, RTMPSPort and SRTPort are the listeners' ports; 0 means that
	// listener is off and its URL blocks are null.
	RTMPPort, RTMPSPort, SRTPort int

	// PublicURL is the base of playback URLs.
	PublicURL string
}

// Server serves the REST API. Its fields are the configuration; set them
// before calling Handler and do not change them afterwards.
type Server struct {
	// Store keeps the live inputs. Required.
	Store Store

	// AccountID is the only account in paths this node answers for; any other
	// gets 403.
	AccountID string

	// Token is the bearer token every request must carry. Empty refuses
	// every request.
	Token string

	// Log receives request failures; nil discards them.
	Log *slog.Logger

	// URLs fills in the URL blocks of a live input.
	URLs URLs

	// Notify, when set, hears about every committed change.
	Notify Notifier

	// Live, when set, adds live state to a GET of one live input.
	Live LiveReporter

	// Outputs keeps the restream outputs; nil answers their routes with 404.
	Outputs OutputStore

	// Restream, when set, hears about output changes and reports their state.
	Restream OutputRunner
	// Videos, when set, serves the recorded broadcasts under /stream.
	Videos Videos
}

// maxBodyBytes bounds a request body; a larger one gets 413.
const maxBodyBytes = 1 << 20

// prefix is where the API lives.
const prefix = "/client/v4"

// route is a path and its handlers by method.
type route struct {
	path    string
	methods map[string]handlerFunc
}

// handlerFunc serves one route: it returns the HTTP status and the result
// for the envelope, or an error (an *apiError for the client's faults). It
// writes nothing to w itself; w is there for the body's size limit.
type handlerFunc func(w http.ResponseWriter, r *http.Request) (int, any, error)

// Handler returns the HTTP handler for everything under /client/v4.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	inputs := prefix + "/accounts/{account}/stream/live_inputs"

	routes := []route{
		{inputs, map[string]handlerFunc{
			http.MethodGet:  s.listLiveInputs,
			http.MethodPost: s.createLiveInput,
		}},
		{inputs + "/{uid}", map[string]handlerFunc{
			http.MethodGet:    s.getLiveInput,
			http.MethodPut:    s.updateLiveInput,
			http.MethodDelete: s.deleteLiveInput,
		}},
		{inputs + "/{uid}/rotate_keys", map[string]handlerFunc{
			http.MethodPost: s.rotateKeys,
		}},
		{inputs + "/{uid}/outputs", map[string]handlerFunc{
			http.MethodGet:  s.listOutputs,
			http.MethodPost: s.createOutput,
		}},
		{inputs + "/{uid}/outputs/{output}", map[string]handlerFunc{
			http.MethodPut:    s.updateOutput,
			http.MethodDelete: s.deleteOutput,
		}},
		{prefix + "/accounts/{account}/stream/keys", map[string]handlerFunc{
			http.MethodPost: s.createSigningKey,
			http.MethodGet:  s.listSigningKeys,
		}},
		{prefix + "/accounts/{account}/stream/keys/{id}", map[string]handlerFunc{
			http.MethodDelete: s.deleteSigningKey,
		}},
		{prefix + "/accounts/{account}/stream/analytics/views", map[string]handlerFunc{
			http.MethodGet: s.queryViews,
		}},
		{prefix + "/accounts/{account}/stream/webhook", map[string]handlerFunc{
			http.MethodPut:    s.putWebhook,
			http.MethodGet:    s.getWebhook,
			http.MethodDelete: s.deleteWebhook,
		}},
	}

	if s.Videos != nil {
		routes = append(routes, s.videoRoutes(inputs)...)
		mux.Handle(prefix+"/accounts/{account}/stream/{video}", s.videoHandler())
	}

	for _, rt := range routes {
		var allowed []string

		for method, h := range rt.methods {
			mux.Handle(method+" "+rt.path, s.serve(h))
			allowed = append(allowed, method)
		}

		slices.Sort(allowed)
		mux.Handle(rt.path, methodNotAllowed(strings.Join(allowed, ", ")))
	}

	// Method-less, so that the live_inputs and keys routes stay more specific.
	mux.Handle(prefix+"/accounts/{account}/stream/{uid}/{action}", s.serve(s.streamAction))

	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, notFound("no route for %.16s %.200s", r.Method, r.URL.Path))
	})

	return s.recover(s.authenticate(cleanPaths(mux)))
}

// cleanPaths answers 404 for a path with empty or dot segments, which
// ServeMux would otherwise answer with a redirect and no envelope.
func cleanPaths(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if trimmed := strings.TrimSuffix(p, "/"); p == "" || (p != "/" && path.Clean(p) != trimmed) {
			writeError(w, notFound("no route for %.16s %.200s", r.Method, p))

			return
		}

		next.ServeHTTP(w, r)
	})
}

// methodNotAllowed answers 405 for a known route with an unknown method.
func methodNotAllowed(allowed string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allowed)
		writeError(w, &apiError{http.StatusMethodNotAllowed, CodeMethodNotAllowed,
			fmt.Sprintf("method %.16s not allowed on %.200s; allowed: %s", r.Method, r.URL.Path,
				allowed)})
	})
}

// serve checks the account in the path, runs h and writes its envelope.
func (s *Server) serve(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if account := r.PathValue("account"); account != s.AccountID {
			writeError(w, &apiError{http.StatusForbidden, CodeForbidden,
				fmt.Sprintf("account %.64q is not served by this node", account)})

			return
		}

		status, result, err := h(w, r)
		if err != nil {
			writeError(w, s.clientError(r, err))

			return
		}

		writeResult(w, status, result)
	})
}

// clientError turns a handler's error into what the client sees: its own
// faults as they are, store.ErrNotFound as 404, the rest as a logged 500.
func (s *Server) clientError(r *http.Request, err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}

	if errors.Is(err, store.ErrNotFound) {
		return notFound("live input %.64q not found", r.PathValue("uid"))
	}

	s.logger().Error("request failed", "method", r.Method, "path", r.URL.Path, "error", err)

	return &apiError{http.StatusInternalServerError, CodeInternal, "internal error"}
}

// authenticate refuses requests without the right bearer token. The token is
// compared through its SHA-256, in constant time, so that neither its bytes
// nor its length leak through timing.
func (s *Server) authenticate(next http.Handler) http.Handler {
	want := sha256.Sum256([]byte(s.Token))

	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		got := sha256.Sum256([]byte(strings.TrimSpace(token)))

		if !ok || !strings.EqualFold(scheme, "Bearer") || s.Token == "" ||
			subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="onair"`)
			writeError(w, &apiError{http.StatusUnauthorized, CodeUnauthorized,
				"missing or wrong API token: send Authorization: Bearer <token>"})

			return
		}

		next.ServeHTTP(w, r)
	})
}

// recover turns a panicking handler into a 500 envelope and a log line.
func (s *Server) recover(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil || v == http.ErrAbortHandler {
				if v != nil {
					panic(v)
				}

				return
			}

			s.logger().Error("handler panicked", "method", r.Method, "path", r.URL.Path,
				"panic", v)
			writeError(w, &apiError{http.StatusInternalServerError, CodeInternal,
				"internal error"})
		}()

		next.ServeHTTP(w, r)
	})
}

func (s *Server) logger() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}

	return s.Log
}
