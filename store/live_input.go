package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Recording modes of a live input.
const (
	RecordingAutomatic = "automatic" // every broadcast is kept as a video
	RecordingOff       = "off"       // nothing is recorded
)

// States of a live input's connection, as the API reports them.
const (
	StateConnected        = "connected"
	StateReconnecting     = "reconnecting"
	StateReconnected      = "reconnected"
	StateClientDisconnect = "client_disconnect"
	StateFailedToConnect  = "failed_to_connect"
)

// LiveInput is a place encoders publish to, with its settings and credentials.
// Its String and LogValue show only the uid, so that credentials stay out of
// logs.
type LiveInput struct {
	UID      string    // 32 lowercase hex digits
	Created  time.Time // UTC
	Modified time.Time // UTC

	Meta                     map[string]any // user data, a JSON object
	Enabled                  bool           // false refuses publishers
	DefaultCreator           string         // creator of the input's videos
	DeleteRecordingAfterDays *int           // nil keeps recordings forever
	Recording                Recording

	StreamKey             string // RTMP and RTMPS publish key
	PlaybackKey           string // RTMP and RTMPS playback key
	SRTStreamID           string // SRT publish stream id
	SRTPassphrase         string // SRT publish passphrase
	SRTPlaybackStreamID   string // SRT playback stream id
	SRTPlaybackPassphrase string // SRT playback passphrase

	Status *Status // nil when never connected

	// KeysRotatedAt is when RotateKeys last gave the input new credentials;
	// zero when never.
	KeysRotatedAt time.Time
}

// Recording says how the input's broadcasts are recorded and played.
type Recording struct {
	Mode                string   // RecordingAutomatic or RecordingOff
	TimeoutSeconds      int      // a publisher back within this continues the video
	RequireSignedURLs   bool     // playback needs a signed token
	AllowedOrigins      []string // origins allowed to embed playback; empty allows all
	HideLiveViewerCount bool     // the views endpoint answers 404
}

// Status is the last connection state of a live input.
type Status struct {
	State  string    // one of the State constants
	Reason string    // why, in words
	Time   time.Time // when the state was entered, UTC
}

// String names the input without its credentials.
func (in *LiveInput) String() string {
	return "live input " + in.UID
}

// LogValue logs the input as its uid only.
func (in *LiveInput) LogValue() slog.Value {
	return slog.StringValue(in.UID)
}

// liveInputColumns are selected by every query that returns live inputs, in
// the order scanLiveInput reads them.
const liveInputColumns = `uid, created, modified, meta, enabled, default_creator,
	delete_recording_after_days, recording_mode, recording_timeout_seconds,
	require_signed_urls, allowed_origins, hide_live_viewer_count,
	stream_key, playback_key, srt_stream_id, srt_passphrase,
	srt_playback_stream_id, srt_playback_passphrase,
	status_state, status_reason, status_time, keys_rotated_at`

// row is what *sql.Row and *sql.Rows have in common.
type row interface {
	Scan(dest ...any) error
}

// scanLiveInput reads one row of liveInputColumns.
func scanLiveInput(r row) (*LiveInput, error) {
	var (
		in                LiveInput
		created, modified int64
		meta, origins     string
		days              sql.NullInt64
		state             sql.NullString
		reason            string
		statusTime        int64
		rotated           sql.NullInt64
	)

	err := r.Scan(&in.UID, &created, &modified, &meta, &in.Enabled, &in.DefaultCreator,
		&days, &in.Recording.Mode, &in.Recording.TimeoutSeconds,
		&in.Recording.RequireSignedURLs, &origins, &in.Recording.HideLiveViewerCount,
		&in.StreamKey, &in.PlaybackKey, &in.SRTStreamID, &in.SRTPassphrase,
		&in.SRTPlaybackStreamID, &in.SRTPlaybackPassphrase,
		&state, &reason, &statusTime, &rotated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}

	if err != nil {
		return nil, err
	}

	in.Created = fromUnixNano(created)
	in.Modified = fromUnixNano(modified)

	if days.Valid {
		d := int(days.Int64)
		in.DeleteRecordingAfterDays = &d
	}

	if rotated.Valid {
		in.KeysRotatedAt = fromUnixNano(rotated.Int64)
	}

	if state.Valid {
		in.Status = &Status{State: state.String, Reason: reason, Time: fromUnixNano(statusTime)}
	}

	if err := decodeJSON(meta, &in.Meta); err != nil {
		return nil, fmt.Errorf("live input %s: meta: %w", in.UID, err)
	}

	if err := decodeJSON(origins, &in.Recording.AllowedOrigins); err != nil {
		return nil, fmt.Errorf("live input %s: allowed origins: %w", in.UID, err)
	}

	return &in, nil
}

// decodeJSON reads a stored JSON column, keeping numbers exact.
func decodeJSON(s string, v any) error {
	d := json.NewDecoder(bytes.NewReader([]byte(s)))
	d.UseNumber()

	return d.Decode(v)
}

// now is the time written into created, modified and status rows.
func now() time.Time {
	return time.Now().UTC().Round(0)
}

func fromUnixNano(n int64) time.Time {
	return time.Unix(0, n).UTC()
}

// settingsArgs are the stored forms of the settings an update may change, in
// the order of the columns meta through hide_live_viewer_count.
func settingsArgs(in *LiveInput) ([]any, error) {
	if in.Meta == nil {
		in.Meta = map[string]any{}
	}

	if in.Recording.AllowedOrigins == nil {
		in.Recording.AllowedOrigins = []string{}
	}

	meta, err := json.Marshal(in.Meta)
	if err != nil {
		return nil, fmt.Errorf("live input %s: meta: %w", in.UID, err)
	}

	origins, err := json.Marshal(in.Recording.AllowedOrigins)
	if err != nil {
		return nil, fmt.Errorf("live input %s: allowed origins: %w", in.UID, err)
	}

	var days any
	if in.DeleteRecordingAfterDays != nil {
		days = *in.DeleteRecordingAfterDays
	}

	return []any{string(meta), in.Enabled, in.DefaultCreator, days, in.Recording.Mode,
		in.Recording.TimeoutSeconds, in.Recording.RequireSignedURLs, string(origins),
		in.Recording.HideLiveViewerCount}, nil
}

// newCredentials gives in a fresh set of credentials.
func newCredentials(in *LiveInput) {
	in.StreamKey = newSecret()
	in.PlaybackKey = newSecret()
	in.SRTStreamID = newSecret()
	in.SRTPassphrase = newSecret()
	in.SRTPlaybackStreamID = newSecret()
	in.SRTPlaybackPassphrase = newSecret()
}

// credentialArgs are the stored forms of in's credentials, in column order
// from stream_key to srt_playback_passphrase, each key followed by its hash.
func credentialArgs(in *LiveInput) []any {
	return []any{in.StreamKey, hashSecret(in.StreamKey),
		in.PlaybackKey, hashSecret(in.PlaybackKey),
		in.SRTStreamID, hashSecret(in.SRTStreamID), in.SRTPassphrase,
		in.SRTPlaybackStreamID, hashSecret(in.SRTPlaybackStreamID), in.SRTPlaybackPassphrase}
}

// CreateLiveInput stores a new live input with in's settings. It fills in
// in's UID, Created, Modified and credentials, and clears its Status.
func (s *Store) CreateLiveInput(ctx context.Context, in *LiveInput) error {
	in.UID = newSecret()
	in.Created = now()
	in.Modified = in.Created
	in.Status = nil
	newCredentials(in)

	args, err := settingsArgs(in)
	if err != nil {
		return err
	}

	args = append([]any{in.UID, in.Created.UnixNano(), in.Modified.UnixNano()}, args...)
	args = append(args, credentialArgs(in)...)

	_, err = s.db.ExecContext(ctx, `INSERT INTO live_inputs (uid, created, modified,
		meta, enabled, default_creator, delete_recording_after_days, recording_mode,
		recording_timeout_seconds, require_signed_urls, allowed_origins, hide_live_viewer_count,
		stream_key, stream_key_hash, playback_key, playback_key_hash,
		srt_stream_id, srt_stream_id_hash, srt_passphrase,
		srt_playback_stream_id, srt_playback_stream_id_hash, srt_playback_passphrase)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...)
	if err != nil {
		return fmt.Errorf("create live input: %w", err)
	}

	return nil
}

// GetLiveInput returns the live input uid, or ErrNotFound.
func (s *Store) GetLiveInput(ctx context.Context, uid string) (*LiveInput, error) {
	return getLiveInput(ctx, s.db, uid)
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func getLiveInput(ctx context.Context, q querier, uid string) (*LiveInput, error) {
	r := q.QueryRowContext(ctx, `SELECT `+liveInputColumns+` FROM live_inputs WHERE uid = ?`, uid)

	in, err := scanLiveInput(r)
	if err != nil {
		return nil, fmt.Errorf("live input %q: %w", uid, err)
	}

	return in, nil
}

// ListLiveInputs returns every live input, oldest first.
func (s *Store) ListLiveInputs(ctx context.Context) ([]*LiveInput, error) {
	rows, err := s.db.QueryContext(ctx,
		`SELECT `+liveInputColumns+` FROM live_inputs ORDER BY created, uid`)
	if err != nil {
		return nil, fmt.Errorf("list live inputs: %w", err)
	}
	defer rows.Close()

	list := []*LiveInput{}

	for rows.Next() {
		in, err := scanLiveInput(rows)
		if err != nil {
			return nil, fmt.Errorf("list live inputs: %w", err)
		}

		list = append(list, in)
	}

	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list live inputs: %w", err)
	}

	return list, nil
}

// UpdateLiveInput changes the settings of the live input uid in one
// transaction: apply gets the stored input and edits it; its settings (Meta
// through Recording) are then written and Modified set. Changes apply makes to
// the uid, times, credentials or status are ignored. When apply fails nothing
// is written and its error is returned. apply must not call the Store.
func (s *Store) UpdateLiveInput(ctx context.Context, uid string,
	apply func(in *LiveInput) error) (*LiveInput, error) {
	var out *LiveInput

	err := s.inTx(ctx, func(tx *sql.Tx) error {
		in, err := getLiveInput(ctx, tx, uid)
		if err != nil {
			return err
		}

		edited := *in
		if err := apply(&edited); err != nil {
			return err
		}

		in.Meta, in.Enabled, in.DefaultCreator = edited.Meta, edited.Enabled, edited.DefaultCreator
		in.DeleteRecordingAfterDays = edited.DeleteRecordingAfterDays
		in.Recording = edited.Recording
		in.Modified = now()

		args, err := settingsArgs(in)
		if err != nil {
			return err
		}

		_, err = tx.ExecContext(ctx, `UPDATE live_inputs SET meta = ?, enabled = ?,
			default_creator = ?, delete_recording_after_days = ?, recording_mode = ?,
			recording_timeout_seconds = ?, require_signed_urls = ?, allowed_origins = ?,
			hide_live_viewer_count = ?, modified = ? WHERE uid = ?`,
			append(args, in.Modified.UnixNano(), uid)...)
		if err != nil {
			return fmt.Errorf("update live input %q: %w", uid, err)
		}

		out = in

		return nil
	})
	if err != nil {
		return nil, err
	}

	return out, nil
}

// DeleteLiveInput removes the live input uid, or returns ErrNotFound.
func (s *Store) DeleteLiveInput(ctx context.Context, uid string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM live_inputs WHERE uid = ?`, uid)
	if err != nil {
		return fmt.Errorf("delete live input %q: %w", uid, err)
	}

	return mustHaveChanged(res, uid)
}

// mustHaveChanged turns an update of no row into ErrNotFound.
func mustHaveChanged(res sql.Result, uid string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("live input %q: %w", uid, err)
	}

	if n == 0 {
		return fmt.Errorf("live input %q: %w", uid, ErrNotFound)
	}

	return nil
}

// RotateKeys gives the live input uid a new set of credentials (both stream
// keys, both SRT stream ids and both passphrases), sets KeysRotatedAt and
// returns it. The old ones stop opening it at once.
func (s *Store) RotateKeys(ctx context.Context, uid string) (*LiveInput, error) {
	var out *LiveInput

	err := s.inTx(ctx, func(tx *sql.Tx) error {
		in, err := getLiveInput(ctx, tx, uid)
		if err != nil {
			return err
		}

		newCredentials(in)
		in.Modified = now()
		in.KeysRotatedAt = in.Modified

		args := append(credentialArgs(in), in.Modified.UnixNano(), in.Modified.UnixNano(), uid)

		_, err = tx.ExecContext(ctx, `UPDATE live_inputs SET
			stream_key = ?, stream_key_hash = ?, playback_key = ?, playback_key_hash = ?,
			srt_stream_id = ?, srt_stream_id_hash = ?, srt_passphrase = ?,
			srt_playback_stream_id = ?, srt_playback_stream_id_hash = ?,
			srt_playback_passphrase = ?, modified = ?, keys_rotated_at = ? WHERE uid = ?`,
			args...)
		if err != nil {
			return fmt.Errorf("rotate keys of live input %q: %w", uid, err)
		}

		out = in

		return nil
	})
	if err != nil {
		return nil, err
	}

	return out, nil
}

// SetLiveInputStatus records the connection state of the live input uid, now.
// It fails with ErrInvalidState for a state that is not a State constant, and
// with ErrNotFound for an unknown uid. Modified is left alone: the status is
// not a setting.
func (s *Store) SetLiveInputStatus(ctx context.Context, uid, state, reason string) error {
	switch state {
	case StateConnected, StateReconnecting, StateReconnected, StateClientDisconnect,
		StateFailedToConnect:
	default:
		return fmt.Errorf("live input %q: state %q: %w", uid, state, ErrInvalidState)
	}

	res, err := s.db.ExecContext(ctx, `UPDATE live_inputs SET status_state = ?,
		status_reason = ?, status_time = ? WHERE uid = ?`, state, reason, now().UnixNano(), uid)
	if err != nil {
		return fmt.Errorf("set status of live input %q: %w", uid, err)
	}

	return mustHaveChanged(res, uid)
}

// LiveInputByStreamKey returns the live input whose RTMP(S) publish key is key.
func (s *Store) LiveInputByStreamKey(ctx context.Context, key string) (*LiveInput, error) {
	return s.byCredential(ctx, "stream_key_hash", key)
}

// LiveInputByPlaybackKey returns the live input whose RTMP(S) playback key is key.
func (s *Store) LiveInputByPlaybackKey(ctx context.Context, key string) (*LiveInput, error) {
	return s.byCredential(ctx, "playback_key_hash", key)
}

// LiveInputBySRTStreamID returns the live input whose SRT publish stream id is id.
func (s *Store) LiveInputBySRTStreamID(ctx context.Context, id string) (*LiveInput, error) {
	return s.byCredential(ctx, "srt_stream_id_hash", id)
}

// LiveInputBySRTPlaybackStreamID returns the live input whose SRT playback
// stream id is id.
func (s *Store) LiveInputBySRTPlaybackStreamID(ctx context.Context,
	id string) (*LiveInput, error) {
	return s.byCredential(ctx, "srt_playback_stream_id_hash", id)
}

// byCredential finds an input by the SHA-256 of a credential. SQL compares
// only hashes, so the time a lookup takes says nothing about how much of a
// guessed key was right, and the credential never enters an error.
func (s *Store) byCredential(ctx context.Context, column, secret string) (*LiveInput, error) {
	r := s.db.QueryRowContext(ctx,
		`SELECT `+liveInputColumns+` FROM live_inputs WHERE `+column+` = ?`, hashSecret(secret))

	in, err := scanLiveInput(r)
	if err != nil {
		return nil, fmt.Errorf("live input by %s: %w", column, err)
	}

	return in, nil
}
