package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// MaxOutputsPerInput bounds the restream outputs of one live input, as
// SPEC.md section 2 (Outputs) says.
const MaxOutputsPerInput = 50

// ErrTooManyOutputs is returned by CreateOutput when the live input already
// has MaxOutputsPerInput outputs.
var ErrTooManyOutputs = fmt.Errorf("a live input has at most %d outputs", MaxOutputsPerInput)

// Output is a destination a live input is restreamed to. Its String and
// LogValue show only the uid, so that the stream key stays out of logs.
type Output struct {
	UID      string    // 32 lowercase hex digits
	InputUID string    // the live input it belongs to
	Created  time.Time // UTC
	Modified time.Time // UTC

	URL           string // rtmp://, rtmps:// or srt:// destination
	StreamKey     string // secret appended to an RTMP(S) URL; may be empty
	TLSSkipVerify bool   // rtmps: do not verify the destination's certificate
	Enabled       bool   // false: nothing is sent
}

// String names the output without its key.
func (o *Output) String() string {
	return "output " + o.UID
}

// LogValue logs the output as its uid only.
func (o *Output) LogValue() slog.Value {
	return slog.StringValue(o.UID)
}

const outputColumns = `uid, live_input_uid, created, modified, url, stream_key,
	tls_skip_verify, enabled`

func scanOutput(r row) (*Output, error) {
	var (
		o                 Output
		created, modified int64
	)

	err := r.Scan(&o.UID, &o.InputUID, &created, &modified, &o.URL, &o.StreamKey,
		&o.TLSSkipVerify, &o.Enabled)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}

	if err != nil {
		return nil, err
	}

	o.Created = fromUnixNano(created)
	o.Modified = fromUnixNano(modified)

	return &o, nil
}

// CreateOutput stores a new output of the live input o.InputUID, filling in
// o's UID, Created and Modified. It fails with ErrNotFound when the input does
// not exist and with ErrTooManyOutputs when it has MaxOutputsPerInput.
func (s *Store) CreateOutput(ctx context.Context, o *Output) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := getLiveInput(ctx, tx, o.InputUID); err != nil {
			return err
		}

		var n int

		err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM outputs WHERE live_input_uid = ?`,
			o.InputUID).Scan(&n)
		if err != nil {
			return fmt.Errorf("count outputs: %w", err)
		}

		if n >= MaxOutputsPerInput {
			return ErrTooManyOutputs
		}

		o.UID = newSecret()
		o.Created = now()
		o.Modified = o.Created

		_, err = tx.ExecContext(ctx, `INSERT INTO outputs (`+outputColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, o.UID, o.InputUID, o.Created.UnixNano(),
			o.Modified.UnixNano(), o.URL, o.StreamKey, o.TLSSkipVerify, o.Enabled)
		if err != nil {
			return fmt.Errorf("create output: %w", err)
		}

		return nil
	})
}

// ListOutputs returns the outputs of a live input, oldest first. It fails
// with ErrNotFound when the input does not exist.
func (s *Store) ListOutputs(ctx context.Context, inputUID string) ([]*Output, error) {
	var out []*Output

	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := getLiveInput(ctx, tx, inputUID); err != nil {
			return err
		}

		rows, err := tx.QueryContext(ctx, `SELECT `+outputColumns+` FROM outputs
			WHERE live_input_uid = ? ORDER BY created, uid`, inputUID)
		if err != nil {
			return fmt.Errorf("list outputs: %w", err)
		}
		defer rows.Close()

		for rows.Next() {
			o, err := scanOutput(rows)
			if err != nil {
				return fmt.Errorf("list outputs: %w", err)
			}

			out = append(out, o)
		}

		return rows.Err()
	})

	return out, err
}

// GetOutput returns one output of a live input, or ErrNotFound.
func (s *Store) GetOutput(ctx context.Context, inputUID, uid string) (*Output, error) {
	r := s.db.QueryRowContext(ctx, `SELECT `+outputColumns+` FROM outputs
		WHERE live_input_uid = ? AND uid = ?`, inputUID, uid)

	o, err := scanOutput(r)
	if err != nil {
		return nil, fmt.Errorf("output %q: %w", uid, err)
	}

	return o, nil
}

// SetOutputEnabled turns an output on or off and returns it as stored, or
// fails with ErrNotFound.
func (s *Store) SetOutputEnabled(ctx context.Context, inputUID, uid string,
	enabled bool) (*Output, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE outputs SET enabled = ?, modified = ?
		WHERE live_input_uid = ? AND uid = ?`, enabled, now().UnixNano(), inputUID, uid)
	if err != nil {
		return nil, fmt.Errorf("update output %q: %w", uid, err)
	}

	if err := outputChanged(res, uid); err != nil {
		return nil, err
	}

	return s.GetOutput(ctx, inputUID, uid)
}

// DeleteOutput removes an output, or fails with ErrNotFound.
func (s *Store) DeleteOutput(ctx context.Context, inputUID, uid string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM outputs WHERE live_input_uid = ? AND uid = ?`,
		inputUID, uid)
	if err != nil {
		return fmt.Errorf("delete output %q: %w", uid, err)
	}

	return outputChanged(res, uid)
}

// outputChanged turns an update or delete of no row into ErrNotFound.
func outputChanged(res sql.Result, uid string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("output %q: %w", uid, err)
	}

	if n == 0 {
		return fmt.Errorf("output %q: %w", uid, ErrNotFound)
	}

	return nil
}
