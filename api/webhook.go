package api

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/onair/onair/store"
)

// maxWebhookURLChars bounds notificationUrl.
const maxWebhookURLChars = 2048

// WebhookStore keeps the account's webhook; *store.Store satisfies it. The
// webhook routes answer 404 when the Server's Store does not implement it.
type WebhookStore interface {
	SetWebhook(ctx context.Context, url string) (*store.Webhook, error)
	GetWebhook(ctx context.Context) (*store.Webhook, error)
	DeleteWebhook(ctx context.Context) error
}

// webhookJSON is the webhook as Cloudflare shows it.
type webhookJSON struct {
	NotificationURL string    `json:"notificationUrl"`
	Modified        time.Time `json:"modified"`
	Secret          string    `json:"secret"`
}

func (s *Server) webhookStore() (WebhookStore, error) {
	ws, ok := s.Store.(WebhookStore)
	if !ok {
		return nil, notFound("webhooks are not kept by this node's store")
	}

	return ws, nil
}

// putWebhook sets the notification URL from {"notificationUrl": "…"}.
func (s *Server) putWebhook(w http.ResponseWriter, r *http.Request) (int, any, error) {
	ws, err := s.webhookStore()
	if err != nil {
		return 0, nil, err
	}

	body, err := readBody(w, r)
	if err != nil {
		return 0, nil, err
	}

	fields, err := objectFields(body, "body")
	if err != nil {
		return 0, nil, err
	}

	var target *string

	for _, name := range sortedKeys(fields) {
		if name != "notificationUrl" {
			return 0, nil, badRequest("unknown field %.64q", name)
		}

		target, err = decodeField[string](fields[name], name, "a string")
		if err != nil {
			return 0, nil, err
		}
	}

	if target == nil {
		return 0, nil, badRequest("notificationUrl is required")
	}

	if err := checkWebhookURL(*target); err != nil {
		return 0, nil, err
	}

	hook, err := ws.SetWebhook(r.Context(), *target)
	if err != nil {
		return 0, nil, err
	}

	s.logger().Info("webhook set", "host", hostOf(hook.URL))

	return http.StatusOK, webhookJSON{hook.URL, hook.Modified, hook.Secret}, nil
}

// checkWebhookURL accepts an absolute http or https URL with a host.
func checkWebhookURL(raw string) error {
	if len(raw) > maxWebhookURLChars {
		return badRequest("notificationUrl is over %d characters", maxWebhookURLChars)
	}

	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.User != nil {
		return badRequest("notificationUrl %.200q: want an http:// or https:// URL with a host"+
			" and no user info", raw)
	}

	return nil
}

// hostOf returns the host of a URL, for logs: paths may hold secrets.
func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}

	return u.Host
}

func (s *Server) getWebhook(_ http.ResponseWriter, r *http.Request) (int, any, error) {
	ws, err := s.webhookStore()
	if err != nil {
		return 0, nil, err
	}

	hook, err := ws.GetWebhook(r.Context())
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil, notFound("no webhook is set")
	}

	if err != nil {
		return 0, nil, err
	}

	return http.StatusOK, webhookJSON{hook.URL, hook.Modified, hook.Secret}, nil
}

func (s *Server) deleteWebhook(_ http.ResponseWriter, r *http.Request) (int, any, error) {
	ws, err := s.webhookStore()
	if err != nil {
		return 0, nil, err
	}

	err = ws.DeleteWebhook(r.Context())
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil, notFound("no webhook is set")
	}

	if err != nil {
		return 0, nil, err
	}

	s.logger().Info("webhook deleted")

	return http.StatusOK, nil, nil
}
