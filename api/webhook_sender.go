package api

import (
	"bytes"
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/onair/onair/store"
)

// Webhook event types (SPEC.md section 2).
const (
	EventConnected    = "live_input.connected"
	EventDisconnected = "live_input.disconnected"
	EventErrored      = "live_input.errored"
)

// Error codes of live_input.errored, as Cloudflare names them.
const (
	ErrCodeVideoCodec   = "ERR_UNSUPPORTED_VIDEO_CODEC"
	ErrCodeAudioCodec   = "ERR_UNSUPPORTED_AUDIO_CODEC"
	ErrCodeGOP          = "ERR_GOP_OUT_OF_RANGE"
	ErrCodeStorageQuota = "ERR_STORAGE_QUOTA_EXHAUSTED"
)

// Defaults of WebhookSender.
const (
	defaultMinBackoff  = time.Second
	defaultMaxBackoff  = 5 * time.Minute
	defaultGiveUpAfter = 24 * time.Hour
	defaultSendTimeout = 10 * time.Second

	// webhookBatch is how many queued events one pass reads.
	webhookBatch = 100

	// webhookPoll is the longest the sender sleeps without looking at the
	// outbox, for events another process sharing the store queued.
	webhookPoll = 10 * time.Second

	// maxReceiverBody is how much of a receiver's answer is read, so that
	// the connection can be reused.
	maxReceiverBody = 4 << 10
)

// Outbox is where WebhookSender keeps events until they are delivered;
// *store.Store satisfies it.
type Outbox interface {
	GetWebhook(ctx context.Context) (*store.Webhook, error)
	AddWebhookEvent(ctx context.Context, stream string, body []byte) (bool, error)
	WebhookEvents(ctx context.Context, limit int) ([]*store.WebhookEvent, error)
	DeleteWebhookEvent(ctx context.Context, id int64) error
	DeferWebhookEvent(ctx context.Context, id int64, attempts int, next time.Time) error
}

// WebhookSender delivers webhook events to the account's notification URL:
// each event is kept in the Outbox until the receiver answers 2xx, retried
// with exponential backoff, and the events of one live input go out in the
// order they happened (at least once each). Queuing an event is one store
// write; delivery runs on the sender's own goroutine, so a slow or dead
// receiver never holds up ingest or the API. Fill the fields, then Start.
type WebhookSender struct {
	// Outbox keeps the events. Required.
	Outbox Outbox

	// Client sends the deliveries; nil means a client that does not follow
	// redirects. A delivery's time limit is SendTimeout either way.
	Client *http.Client

	// Log receives delivery failures; nil discards them.
	Log *slog.Logger

	// MinBackoff is the wait after a first failure, doubled after each
	// further one up to MaxBackoff. Zero means 1 s and 5 min.
	MinBackoff, MaxBackoff time.Duration

	// GiveUpAfter is how long an event is retried before it is dropped.
	// Zero means 24 hours.
	GiveUpAfter time.Duration

	// SendTimeout bounds one delivery. Zero means 10 s.
	SendTimeout time.Duration

	wake   chan struct{}
	http   *http.Client
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Start begins delivering, starting with the events a previous process left.
func (ws *WebhookSender) Start() error {
	if ws.Outbox == nil {
		return errors.New("webhook sender needs an outbox")
	}

	ws.wake = make(chan struct{}, 1)
	ws.http = ws.Client

	if ws.http == nil {
		// A receiver's redirect is a failure, not a reason to post the
		// event somewhere else.
		ws.http = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}}
	}
	ws.ctx, ws.cancel = context.WithCancel(context.Background())

	ws.wg.Add(1)
	go ws.run()

	return nil
}

// Close stops delivering and waits for a delivery in flight. Events not
// delivered stay in the outbox for the next start.
func (ws *WebhookSender) Close() {
	ws.cancel()
	ws.wg.Wait()
}

// liveInputData is the data of a live input event, in Cloudflare's shape.
type liveInputData struct {
	NotificationName string            `json:"notification_name"`
	InputID          string            `json:"input_id"`
	EventType        string            `json:"event_type"`
	UpdatedAt        time.Time         `json:"updated_at"`
	Errored          *liveInputErrored `json:"live_input_errored,omitempty"`
}

type liveInputErrored struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

type liveInputEvent struct {
	Name string        `json:"name"`
	Text string        `json:"text"`
	Data liveInputData `json:"data"`
	TS   int64         `json:"ts"`
}

// Connected queues live_input.connected for input uid.
func (ws *WebhookSender) Connected(uid string) {
	ws.liveInput(uid, EventConnected, nil)
}

// Disconnected queues live_input.disconnected for input uid.
func (ws *WebhookSender) Disconnected(uid string) {
	ws.liveInput(uid, EventDisconnected, nil)
}

// Errored queues live_input.errored for input uid with code (one of the
// ErrCode constants) and a message.
func (ws *WebhookSender) Errored(uid, code, message string) {
	e := &liveInputErrored{}
	e.Error.Code, e.Error.Message = code, message

	ws.liveInput(uid, EventErrored, e)
}

// VideoReady queues video, the API object of a recording that became ready,
// in order with the events of its live input (empty for an upload).
func (ws *WebhookSender) VideoReady(liveInput string, video any) {
	body, err := json.Marshal(video)
	if err != nil {
		ws.logger().Error("webhook event not encoded", "event", "video ready", "error", err)

		return
	}

	ws.queue(liveInput, body)
}

func (ws *WebhookSender) liveInput(uid, event string, errored *liveInputErrored) {
	t := time.Now().UTC()
	ev := liveInputEvent{
		Name: "Stream Live Input",
		Text: fmt.Sprintf("Notification type: Stream Live Input\nInput ID: %s\n"+
			"Event type: %s\nUpdated at: %s", uid, event, t.Format(time.RFC3339Nano)),
		Data: liveInputData{NotificationName: "Stream Live Input", InputID: uid,
			EventType: event, UpdatedAt: t, Errored: errored},
		TS: t.Unix(),
	}

	body, err := json.Marshal(ev)
	if err != nil {
		ws.logger().Error("webhook event not encoded", "event", event, "error", err)

		return
	}

	ws.queue(uid, body)
}

// queue writes an event to the outbox and wakes the sender.
func (ws *WebhookSender) queue(stream string, body []byte) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	queued, err := ws.Outbox.AddWebhookEvent(ctx, stream, body)
	if err != nil {
		ws.logger().Warn("webhook event lost", "input", stream, "error", err)

		return
	}

	if queued {
		select {
		case ws.wake <- struct{}{}:
		default:
		}
	}
}

// run delivers due events until Close, sleeping until the next one is due,
// an event is queued, or webhookPoll passes.
func (ws *WebhookSender) run() {
	defer ws.wg.Done()

	timer := time.NewTimer(0)
	defer timer.Stop()

	for {
		select {
		case <-ws.ctx.Done():
			return
		case <-ws.wake:
		case <-timer.C:
		}

		wait := ws.pass()

		timer.Stop()
		timer.Reset(wait)
	}
}

// pass tries every due event once, in order, and returns how long to wait
// for the next one.
func (ws *WebhookSender) pass() time.Duration {
	events, err := ws.Outbox.WebhookEvents(ws.ctx, webhookBatch)
	if err != nil {
		ws.warn("webhook outbox unreadable", err)

		return webhookPoll
	}

	if len(events) == 0 {
		return webhookPoll
	}

	hook, err := ws.Outbox.GetWebhook(ws.ctx)
	if err != nil {
		// Deleted since the events were read: DeleteWebhook drops them.
		return webhookPoll
	}

	wait := webhookPoll
	blocked := map[string]bool{} // streams with an earlier event still waiting
	delivered := 0

	for _, e := range events {
		if ws.ctx.Err() != nil {
			return 0
		}

		if blocked[e.Stream] {
			continue
		}

		if d := time.Until(e.NextAttempt); d > 0 {
			blocked[e.Stream] = true
			wait = min(wait, d)

			continue
		}

		if d, ok := ws.attempt(hook, e); !ok {
			blocked[e.Stream] = true
			wait = min(wait, d)

			continue
		}

		delivered++
	}

	if delivered > 0 && len(events) == webhookBatch {
		return 0 // more may be waiting behind this batch
	}

	return wait
}

// attempt delivers e once. On failure it records the attempt and returns
// the wait before the next one; an event past GiveUpAfter is dropped.
func (ws *WebhookSender) attempt(hook *store.Webhook, e *store.WebhookEvent) (time.Duration,
	bool) {
	err := ws.send(hook, e.Body)
	if err == nil {
		if err := ws.Outbox.DeleteWebhookEvent(ws.ctx, e.ID); err != nil {
			ws.warn("delivered webhook event not removed", err)
		}

		return 0, true
	}

	if ws.ctx.Err() != nil {
		return 0, false
	}

	attempts := e.Attempts + 1
	log := ws.logger().With("input", e.Stream, "event", e.ID, "attempts", attempts,
		"host", hostOf(hook.URL))

	if time.Since(e.Created) > cmp.Or(ws.GiveUpAfter, defaultGiveUpAfter) {
		log.Warn("webhook event dropped after retrying too long", "error", err)

		if err := ws.Outbox.DeleteWebhookEvent(ws.ctx, e.ID); err != nil {
			ws.warn("dropped webhook event not removed", err)
		}

		return 0, true
	}

	d := ws.backoff(attempts)
	log.Warn("webhook delivery failed; will retry", "retry_in", d, "error", err)

	if err := ws.Outbox.DeferWebhookEvent(ws.ctx, e.ID, attempts, time.Now().Add(d)); err != nil {
		ws.warn("webhook retry not recorded", err)
	}

	return d, false
}

// backoff is MinBackoff doubled for each attempt after the first, at most
// MaxBackoff.
func (ws *WebhookSender) backoff(attempts int) time.Duration {
	lo := cmp.Or(ws.MinBackoff, defaultMinBackoff)
	hi := cmp.Or(ws.MaxBackoff, defaultMaxBackoff)

	d := lo
	for i := 1; i < attempts && d < hi; i++ {
		d *= 2
	}

	return min(d, hi)
}

// send posts body, signed, and wants a 2xx answer.
func (ws *WebhookSender) send(hook *store.Webhook, body []byte) error {
	ctx, cancel := context.WithTimeout(ws.ctx, cmp.Or(ws.SendTimeout, defaultSendTimeout))
	defer cancel()

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hook.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}

	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "onair-webhook")
	req.Header.Set("Webhook-Signature", SignWebhook(hook.Secret, time.Now(), body))

	resp, err := ws.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()

	io.Copy(io.Discard, io.LimitReader(resp.Body, maxReceiverBody))

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("receiver answered %d", resp.StatusCode)
	}

	return nil
}

// SignWebhook returns the Webhook-Signature value of body sent at t:
// time=<unix seconds>,sig1=<hex HMAC-SHA256 of "<time>.<body>" keyed with
// secret>.
func SignWebhook(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)

	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "."))
	mac.Write(body)

	return "time=" + ts + ",sig1=" + hex.EncodeToString(mac.Sum(nil))
}

func (ws *WebhookSender) warn(msg string, err error) {
	if ws.ctx.Err() == nil {
		ws.logger().Warn(msg, "error", err)
	}
}

func (ws *WebhookSender) logger() *slog.Logger {
	if ws.Log == nil {
		return slog.New(slog.DiscardHandler)
	}

	return ws.Log
}
