package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// States of a video, as the API reports them (Cloudflare Stream's names).
const (
	VideoLive  = "live-inprogress" // its broadcast is going on
	VideoReady = "ready"           // the broadcast ended; the recording plays
	VideoError = "error"           // recording stopped; ErrorCode says why
)

// Video is one recorded broadcast of a live input.
type Video struct {
	UID       string    // 32 lowercase hex digits
	LiveInput string    // uid of the input it was broadcast to; it may be deleted since
	Created   time.Time // UTC, when the broadcast started
	Modified  time.Time // UTC

	Creator string         // the input's defaultCreator when the broadcast started
	Meta    map[string]any // user data, a JSON object

	State     string // one of the Video state constants
	ErrorCode string // ERR_… when recording failed, kept after the video is ready
	ErrorText string // the error in words

	Duration      float64 // seconds; -1 while unknown (live)
	Width, Height int     // picture size of the top rendition
	Size          int64   // bytes stored

	ScheduledDeletion *time.Time // UTC; nil keeps the video

	// RequireSignedURLs and AllowedOrigins are the playback rules, taken
	// from the input's recording settings when the broadcast started.
	RequireSignedURLs bool
	AllowedOrigins    []string
}

// VideoFilter selects videos in ListVideos; zero fields select all.
type VideoFilter struct {
	LiveInput string
	Creator   string
	State     string    // one of the Video state constants
	Start     time.Time // created at or after
	End       time.Time // created before
	Asc       bool      // oldest first; the default is newest first
	Limit     int       // at most this many; 0 means no limit
}

const videoColumns = `uid, live_input, created, modified, creator, meta, state,
	error_code, error_text, duration, width, height, size, scheduled_deletion,
	require_signed_urls, allowed_origins`

func scanVideo(r row) (*Video, error) {
	var (
		v                 Video
		created, modified int64
		meta, origins     string
		deletion          sql.NullInt64
	)

	err := r.Scan(&v.UID, &v.LiveInput, &created, &modified, &v.Creator, &meta, &v.State,
		&v.ErrorCode, &v.ErrorText, &v.Duration, &v.Width, &v.Height, &v.Size, &deletion,
		&v.RequireSignedURLs, &origins)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}

	if err != nil {
		return nil, err
	}

	v.Created, v.Modified = fromUnixNano(created), fromUnixNano(modified)

	if deletion.Valid {
		t := fromUnixNano(deletion.Int64)
		v.ScheduledDeletion = &t
	}

	if err := decodeJSON(meta, &v.Meta); err != nil {
		return nil, fmt.Errorf("video %s: meta: %w", v.UID, err)
	}

	if err := decodeJSON(origins, &v.AllowedOrigins); err != nil {
		return nil, fmt.Errorf("video %s: allowed origins: %w", v.UID, err)
	}

	return &v, nil
}

// CreateVideo stores a new video with v's fields; it fills in UID, Created
// and Modified.
func (s *Store) CreateVideo(ctx context.Context, v *Video) error {
	v.UID = newSecret()
	v.Created = now()
	v.Modified = v.Created

	return s.putVideo(ctx, s.db, v, true)
}

// execer is what *sql.DB and *sql.Tx have in common for writes.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func (s *Store) putVideo(ctx context.Context, x execer, v *Video, insert bool) error {
	if v.Meta == nil {
		v.Meta = map[string]any{}
	}

	meta, err := json.Marshal(v.Meta)
	if err != nil {
		return fmt.Errorf("video %s: meta: %w", v.UID, err)
	}

	origins, err := json.Marshal(append([]string{}, v.AllowedOrigins...))
	if err != nil {
		return fmt.Errorf("video %s: allowed origins: %w", v.UID, err)
	}

	var deletion any
	if v.ScheduledDeletion != nil {
		deletion = v.ScheduledDeletion.UnixNano()
	}

	args := []any{v.LiveInput, v.Created.UnixNano(), v.Modified.UnixNano(), v.Creator,
		string(meta), v.State, v.ErrorCode, v.ErrorText, v.Duration, v.Width, v.Height, v.Size,
		deletion, v.RequireSignedURLs, string(origins), v.UID}

	query := `UPDATE videos SET live_input = ?, created = ?, modified = ?, creator = ?,
		meta = ?, state = ?, error_code = ?, error_text = ?, duration = ?, width = ?,
		height = ?, size = ?, scheduled_deletion = ?, require_signed_urls = ?,
		allowed_origins = ? WHERE uid = ?`
	if insert {
		query = `INSERT INTO videos (live_input, created, modified, creator, meta, state,
			error_code, error_text, duration, width, height, size, scheduled_deletion,
			require_signed_urls, allowed_origins, uid)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	}

	res, err := x.ExecContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("video %s: %w", v.UID, err)
	}

	return mustHaveChanged(res, v.UID)
}

// VideoExists reports whether video uid exists.
func (s *Store) VideoExists(ctx context.Context, uid string) (bool, error) {
	_, err := s.GetVideo(ctx, uid)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}

	return err == nil, err
}

// GetVideo returns the video uid, or ErrNotFound.
func (s *Store) GetVideo(ctx context.Context, uid string) (*Video, error) {
	return getVideo(ctx, s.db, uid)
}

func getVideo(ctx context.Context, q querier, uid string) (*Video, error) {
	r := q.QueryRowContext(ctx, `SELECT `+videoColumns+` FROM videos WHERE uid = ?`, uid)

	v, err := scanVideo(r)
	if err != nil {
		return nil, fmt.Errorf("video %q: %w", uid, err)
	}

	return v, nil
}

// ListVideos returns the videos f selects, newest first unless f.Asc.
func (s *Store) ListVideos(ctx context.Context, f VideoFilter) ([]*Video, error) {
	var where []string
	var args []any

	add := func(cond string, arg any) {
		where = append(where, cond)
		args = append(args, arg)
	}

	if f.LiveInput != "" {
		add("live_input = ?", f.LiveInput)
	}

	if f.Creator != "" {
		add("creator = ?", f.Creator)
	}

	if f.State != "" {
		add("state = ?", f.State)
	}

	if !f.Start.IsZero() {
		add("created >= ?", f.Start.UnixNano())
	}

	if !f.End.IsZero() {
		add("created < ?", f.End.UnixNano())
	}

	query := `SELECT ` + videoColumns + ` FROM videos`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}

	if f.Asc {
		query += " ORDER BY created, uid"
	} else {
		query += " ORDER BY created DESC, uid DESC"
	}

	if f.Limit > 0 {
		query += fmt.Sprintf(" LIMIT %d", f.Limit)
	}

	return s.queryVideos(ctx, query, args...)
}

// VideosDueForDeletion returns the videos whose scheduled deletion is at or
// before t.
func (s *Store) VideosDueForDeletion(ctx context.Context, t time.Time) ([]*Video, error) {
	return s.queryVideos(ctx, `SELECT `+videoColumns+` FROM videos
		WHERE scheduled_deletion IS NOT NULL AND scheduled_deletion <= ?
		ORDER BY scheduled_deletion`, t.UnixNano())
}

func (s *Store) queryVideos(ctx context.Context, query string, args ...any) ([]*Video, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list videos: %w", err)
	}
	defer rows.Close()

	list := []*Video{}

	for rows.Next() {
		v, err := scanVideo(rows)
		if err != nil {
			return nil, fmt.Errorf("list videos: %w", err)
		}

		list = append(list, v)
	}

	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list videos: %w", err)
	}

	return list, nil
}

// UpdateVideo changes the video uid in one transaction: apply edits the
// stored video, which is then written with Modified set. UID and Created
// are kept. When apply fails nothing is written.
func (s *Store) UpdateVideo(ctx context.Context, uid string,
	apply func(v *Video) error) (*Video, error) {
	var out *Video

	err := s.inTx(ctx, func(tx *sql.Tx) error {
		v, err := getVideo(ctx, tx, uid)
		if err != nil {
			return err
		}

		created := v.Created
		if err := apply(v); err != nil {
			return err
		}

		v.UID, v.Created, v.Modified = uid, created, now()
		out = v

		return s.putVideo(ctx, tx, v, false)
	})
	if err != nil {
		return nil, err
	}

	return out, nil
}

// DeleteVideo removes the video uid's row, or returns ErrNotFound.
func (s *Store) DeleteVideo(ctx context.Context, uid string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM videos WHERE uid = ?`, uid)
	if err != nil {
		return fmt.Errorf("delete video %q: %w", uid, err)
	}

	return mustHaveChanged(res, uid)
}
