package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/onair/onair/analytics"
)

// viewColumns maps the dimensions of the views query (SPEC.md section 4) to
// their columns.
var viewColumns = map[string]string{
	"uid":               "uid",
	"liveInput":         "live_input",
	"creator":           "creator",
	"clientCountryName": "country",
}

// IsViewDimension says whether name is a dimension QueryViews groups by.
func IsViewDimension(name string) bool {
	_, ok := viewColumns[name]
	return ok
}

// ViewQuery asks for totals of minutes viewed and views.
type ViewQuery struct {
	Since, Until time.Time     // minutes in [Since, Until)
	Step         time.Duration // a minute, an hour or a day
	Dimensions   []string      // names IsViewDimension accepts; none: one total per step
}

// ViewTotal is one step's totals for one set of dimension values.
type ViewTotal struct {
	Time         time.Time // start of the step, UTC
	Dimensions   map[string]string
	MediaSeconds float64
	Views        int64
}

// AddViews adds rows to the stored counts in one transaction; it satisfies
// analytics.Sink.
func (s *Store) AddViews(ctx context.Context, rows []analytics.Row) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO analytics_views
			(minute, uid, live_input, creator, country, media_seconds, views)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (minute, uid, live_input, creator, country) DO UPDATE SET
			media_seconds = media_seconds + excluded.media_seconds,
			views = views + excluded.views`)
		if err != nil {
			return fmt.Errorf("add views: %w", err)
		}
		defer stmt.Close()

		for _, r := range rows {
			_, err := stmt.ExecContext(ctx, r.Minute.Unix(), r.UID, r.LiveInput, r.Creator,
				r.Country, r.MediaSeconds, r.Views)
			if err != nil {
				return fmt.Errorf("add views: %w", err)
			}
		}

		return nil
	})
}

// QueryViews returns the totals of q, by time then dimension values.
func (s *Store) QueryViews(ctx context.Context, q ViewQuery) ([]ViewTotal, error) {
	step := int64(q.Step / time.Second)
	if step < 60 {
		return nil, fmt.Errorf("views step %v: want a minute or more", q.Step)
	}

	cols := make([]string, 0, len(q.Dimensions))

	for _, d := range q.Dimensions {
		col, ok := viewColumns[d]
		if !ok {
			return nil, fmt.Errorf("views dimension %.64q: unknown", d)
		}

		cols = append(cols, col)
	}

	group := "t"
	if len(cols) > 0 {
		group += ", " + strings.Join(cols, ", ")
	}

	// Columns come from viewColumns only, never from the caller's text.
	query := `SELECT (minute / ?) * ? AS t` + prefixEach(", ", cols) +
		`, SUM(media_seconds), SUM(views) FROM analytics_views
		WHERE minute >= ? AND minute < ? GROUP BY ` + group + ` ORDER BY ` + group

	rows, err := s.db.QueryContext(ctx, query, step, step, q.Since.Unix(), q.Until.Unix())
	if err != nil {
		return nil, fmt.Errorf("query views: %w", err)
	}
	defer rows.Close()

	out := []ViewTotal{}

	for rows.Next() {
		var (
			t      int64
			values = make([]string, len(cols))
			v      ViewTotal
		)

		dest := []any{&t}
		for i := range values {
			dest = append(dest, &values[i])
		}

		if err := rows.Scan(append(dest, &v.MediaSeconds, &v.Views)...); err != nil {
			return nil, fmt.Errorf("query views: %w", err)
		}

		v.Time = time.Unix(t, 0).UTC()
		v.Dimensions = make(map[string]string, len(cols))

		for i, d := range q.Dimensions {
			v.Dimensions[d] = values[i]
		}

		out = append(out, v)
	}

	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query views: %w", err)
	}

	return out, nil
}

// prefixEach joins items, each preceded by sep.
func prefixEach(sep string, items []string) string {
	var b strings.Builder

	for _, s := range items {
		b.WriteString(sep + s)
	}

	return b.String()
}
