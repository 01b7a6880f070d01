package delivery

import (
	"cmp"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/onair/onair/analytics"
)

// Limits of a ViewReporter.
const (
	defaultReportEvery = 2 * time.Second

	// maxQueuedViews bounds the views kept while the origins cannot be
	// reached; past it new ones are dropped and counted in the log.
	maxQueuedViews = 200_000
)

// ViewReporter is the Viewing of an edge: it sends the views the edge
// served to an origin's EdgeAPI every ReportEvery, so that the origin counts
// them once. Live viewer counts are the origin's. Fill the fields, then
// Start; Close sends what is left.
type ViewReporter struct {
	// Origins are tried in turn. Required.
	Origins []*url.URL

	// Token is the EdgeAPI's bearer token. Required.
	Token string

	// Client makes the requests; nil means http.DefaultClient.
	Client *http.Client

	// ReportEvery is how often views are sent. Zero means 2 s.
	ReportEvery time.Duration

	// Log receives failures; nil discards them.
	Log *slog.Logger

	mu      sync.Mutex
	queue   []viewJSON
	dropped int

	sendMu sync.Mutex
	stop   chan struct{}
	wg     sync.WaitGroup
}

// Start begins reporting.
func (v *ViewReporter) Start() error {
	if len(v.Origins) == 0 || v.Token == "" {
		return errors.New("view reporter needs origins and a token")
	}

	v.stop = make(chan struct{})

	v.wg.Add(1)
	go v.run()

	return nil
}

// Close stops reporting after sending the views held.
func (v *ViewReporter) Close() error {
	close(v.stop)
	v.wg.Wait()

	return v.Send()
}

func (v *ViewReporter) run() {
	defer v.wg.Done()

	t := time.NewTicker(cmp.Or(v.ReportEvery, defaultReportEvery))
	defer t.Stop()

	for {
		select {
		case <-v.stop:
			return
		case <-t.C:
		}

		if err := v.Send(); err != nil {
			v.logger().Warn("views not reported; will retry", "error", err)
		}
	}
}

// Record implements Viewing: it queues the view.
func (v *ViewReporter) Record(r analytics.Request) {
	t := r.Time
	if t.IsZero() {
		t = time.Now()
	}

	v.mu.Lock()
	defer v.mu.Unlock()

	if len(v.queue) >= maxQueuedViews {
		v.dropped++

		return
	}

	v.queue = append(v.queue, viewJSON{Time: t.UTC(), UID: r.UID, LiveInput: r.LiveInput,
		Creator: r.Creator, Country: r.Country, Session: r.Session,
		MediaSeconds: r.Media.Seconds()})
}

// LiveViewers implements Viewing; an edge leaves the count to the origin.
func (v *ViewReporter) LiveViewers(string) int {
	return 0
}

// Send reports the queued views now, in batches; views of a failed batch
// stay queued.
func (v *ViewReporter) Send() error {
	v.sendMu.Lock()
	defer v.sendMu.Unlock()

	v.mu.Lock()
	batch, dropped := v.queue, v.dropped
	v.queue, v.dropped = nil, 0
	v.mu.Unlock()

	if dropped > 0 {
		v.logger().Warn("views dropped: the origins could not take them", "views", dropped)
	}

	for len(batch) > 0 {
		n := min(len(batch), maxReportViews)

		if err := v.post(batch[:n]); err != nil {
			v.requeue(batch)

			return err
		}

		batch = batch[n:]
	}

	return nil
}

func (v *ViewReporter) post(views []viewJSON) error {
	body, err := json.Marshal(views)
	if err != nil {
		return err
	}

	var errs []error

	for _, o := range v.Origins {
		if _, err := edgeCall(v.Client, o, v.Token, http.MethodPost, "views", body); err != nil {
			errs = append(errs, err)

			continue
		}

		return nil
	}

	return errors.Join(errs...)
}

// requeue puts unsent views back in front of the queue.
func (v *ViewReporter) requeue(views []viewJSON) {
	v.mu.Lock()
	defer v.mu.Unlock()

	room := maxQueuedViews - len(v.queue)
	if len(views) > room {
		v.dropped += len(views) - max(room, 0)
		views = views[:max(room, 0)]
	}

	v.queue = append(append([]viewJSON(nil), views...), v.queue...)
}

func (v *ViewReporter) logger() *slog.Logger {
	if v.Log == nil {
		return slog.New(slog.DiscardHandler)
	}

	return v.Log
}
