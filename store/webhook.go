package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Webhook is the account's one notification URL and the secret its
// deliveries are signed with.
type Webhook struct {
	URL      string
	Secret   string // 32 lowercase hex digits
	Modified time.Time
}

// WebhookEvent is one event waiting in the outbox for delivery.
type WebhookEvent struct {
	ID          int64     // increases with every event queued
	Stream      string    // events of one stream (a live input uid) go out in order
	Body        []byte    // the JSON sent, as it will be signed
	Created     time.Time // when it was queued, UTC
	Attempts    int       // failed deliveries so far
	NextAttempt time.Time // not to be tried before, UTC
}

// SetWebhook sets the notification URL. A first call generates the secret;
// later calls keep it, so that receivers need not learn a new one when the
// URL moves.
func (s *Store) SetWebhook(ctx context.Context, url string) (*Webhook, error) {
	w := &Webhook{URL: url, Secret: newSecret(), Modified: now()}

	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var secret string

		err := tx.QueryRowContext(ctx, `SELECT secret FROM webhook WHERE id = 1`).Scan(&secret)
		switch {
		case err == nil:
			w.Secret = secret
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}

		_, err = tx.ExecContext(ctx, `INSERT OR REPLACE INTO webhook (id, url, secret, modified)
			VALUES (1, ?, ?, ?)`, w.URL, w.Secret, w.Modified.UnixNano())

		return err
	})
	if err != nil {
		return nil, fmt.Errorf("set webhook: %w", err)
	}

	return w, nil
}

// GetWebhook returns the webhook, or ErrNotFound when none is set.
func (s *Store) GetWebhook(ctx context.Context) (*Webhook, error) {
	var (
		w        Webhook
		modified int64
	)

	err := s.db.QueryRowContext(ctx, `SELECT url, secret, modified FROM webhook WHERE id = 1`).
		Scan(&w.URL, &w.Secret, &modified)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("webhook: %w", ErrNotFound)
	}

	if err != nil {
		return nil, fmt.Errorf("webhook: %w", err)
	}

	w.Modified = fromUnixNano(modified)

	return &w, nil
}

// DeleteWebhook removes the webhook and drops the events still waiting for
// it, or returns ErrNotFound when none is set.
func (s *Store) DeleteWebhook(ctx context.Context) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM webhook WHERE id = 1`)
		if err != nil {
			return fmt.Errorf("delete webhook: %w", err)
		}

		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return fmt.Errorf("webhook: %w", cmpErr(err, ErrNotFound))
		}

		if _, err := tx.ExecContext(ctx, `DELETE FROM webhook_events`); err != nil {
			return fmt.Errorf("delete webhook events: %w", err)
		}

		return nil
	})
}

// cmpErr returns err, or def when err is nil.
func cmpErr(err, def error) error {
	if err != nil {
		return err
	}

	return def
}

// AddWebhookEvent queues body for delivery, after every event already
// queued, and reports whether it did: with no webhook set there is nobody to
// tell, and nothing is queued.
func (s *Store) AddWebhookEvent(ctx context.Context, stream string, body []byte) (bool, error) {
	t := now().UnixNano()

	res, err := s.db.ExecContext(ctx, `INSERT INTO webhook_events
		(stream, body, created, next_attempt)
		SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM webhook)`, stream, body, t, t)
	if err != nil {
		return false, fmt.Errorf("queue webhook event: %w", err)
	}

	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("queue webhook event: %w", err)
	}

	return n == 1, nil
}

// WebhookEvents returns at most limit queued events, oldest first.
func (s *Store) WebhookEvents(ctx context.Context, limit int) ([]*WebhookEvent, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, stream, body, created, attempts,
		next_attempt FROM webhook_events ORDER BY id LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("webhook events: %w", err)
	}
	defer rows.Close()

	var list []*WebhookEvent

	for rows.Next() {
		var (
			e             WebhookEvent
			created, next int64
		)

		if err := rows.Scan(&e.ID, &e.Stream, &e.Body, &created, &e.Attempts,
			&next); err != nil {
			return nil, fmt.Errorf("webhook events: %w", err)
		}

		e.Created, e.NextAttempt = fromUnixNano(created), fromUnixNano(next)
		list = append(list, &e)
	}

	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("webhook events: %w", err)
	}

	return list, nil
}

// DeleteWebhookEvent removes a delivered (or abandoned) event.
func (s *Store) DeleteWebhookEvent(ctx context.Context, id int64) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM webhook_events WHERE id = ?`, id); err != nil {
		return fmt.Errorf("delete webhook event %d: %w", id, err)
	}

	return nil
}

// DeferWebhookEvent records a failed delivery of event id: its count of
// attempts and when to try again.
func (s *Store) DeferWebhookEvent(ctx context.Context, id int64, attempts int,
	next time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE webhook_events SET attempts = ?, next_attempt = ?
		WHERE id = ?`, attempts, next.UnixNano(), id)
	if err != nil {
		return fmt.Errorf("defer webhook event %d: %w", id, err)
	}

	return nil
}
