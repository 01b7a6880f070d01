package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"

	// The SQLite driver registers itself as "sqlite3".
	_ "github.com/mattn/go-sqlite3"
)

// busyTimeoutMillis is how long a connection waits for another writer's lock
// before it gives up with SQLITE_BUSY.
const busyTimeoutMillis = 5000

// migrations are applied in order, each once, inside its own transaction; the
// number applied is kept in schema_version. Append only: never edit one that
// has shipped.
var migrations = []string{
	`CREATE TABLE live_inputs (
		uid TEXT PRIMARY KEY,
		created INTEGER NOT NULL,
		modified INTEGER NOT NULL,
		meta TEXT NOT NULL,
		enabled INTEGER NOT NULL,
		default_creator TEXT NOT NULL,
		delete_recording_after_days INTEGER,
		recording_mode TEXT NOT NULL,
		recording_timeout_seconds INTEGER NOT NULL,
		require_signed_urls INTEGER NOT NULL,
		allowed_origins TEXT NOT NULL,
		hide_live_viewer_count INTEGER NOT NULL,
		stream_key TEXT NOT NULL,
		stream_key_hash BLOB NOT NULL UNIQUE,
		playback_key TEXT NOT NULL,
		playback_key_hash BLOB NOT NULL UNIQUE,
		srt_stream_id TEXT NOT NULL,
		srt_stream_id_hash BLOB NOT NULL UNIQUE,
		srt_passphrase TEXT NOT NULL,
		srt_playback_stream_id TEXT NOT NULL,
		srt_playback_stream_id_hash BLOB NOT NULL UNIQUE,
		srt_playback_passphrase TEXT NOT NULL,
		status_state TEXT,
		status_reason TEXT NOT NULL DEFAULT '',
		status_time INTEGER NOT NULL DEFAULT 0
	);
	CREATE INDEX live_inputs_created ON live_inputs (created, uid);`,

	// Restream outputs (simulcast), deleted with their live input.
	`CREATE TABLE outputs (
		uid TEXT PRIMARY KEY,
		live_input_uid TEXT NOT NULL REFERENCES live_inputs (uid) ON DELETE CASCADE,
		created INTEGER NOT NULL,
		modified INTEGER NOT NULL,
		url TEXT NOT NULL,
		stream_key TEXT NOT NULL,
		tls_skip_verify INTEGER NOT NULL,
		enabled INTEGER NOT NULL
	);
	CREATE INDEX outputs_live_input ON outputs (live_input_uid, created, uid);`,

	// When a live input's credentials were last rotated.
	`ALTER TABLE live_inputs ADD COLUMN keys_rotated_at INTEGER;`,

	// The account's webhook and its outbox of events not yet
	// delivered, in the order they happened.
	`CREATE TABLE webhook (
		id INTEGER PRIMARY KEY CHECK (id = 1),
		url TEXT NOT NULL,
		secret TEXT NOT NULL,
		modified INTEGER NOT NULL
	);
	CREATE TABLE webhook_events (
		id INTEGER PRIMARY KEY AUTOINCREMENT,
		stream TEXT NOT NULL,
		body BLOB NOT NULL,
		created INTEGER NOT NULL,
		attempts INTEGER NOT NULL DEFAULT 0,
		next_attempt INTEGER NOT NULL
	);`,

	// Keys that sign playback tokens. The account's keys keep only
	// their public half; onair's own key (own = 1, at most one) keeps both.
	`CREATE TABLE signing_keys (
		id TEXT PRIMARY KEY,
		created INTEGER NOT NULL,
		public_pem TEXT NOT NULL,
		private_pem TEXT NOT NULL DEFAULT '',
		own INTEGER NOT NULL DEFAULT 0
	);
	CREATE UNIQUE INDEX signing_keys_own ON signing_keys (own) WHERE own = 1;`,

	// Minutes viewed and views per minute (Unix seconds), video or
	// input, creator and country.
	`CREATE TABLE analytics_views (
		minute INTEGER NOT NULL,
		uid TEXT NOT NULL,
		live_input TEXT NOT NULL,
		creator TEXT NOT NULL,
		country TEXT NOT NULL,
		media_seconds REAL NOT NULL,
		views INTEGER NOT NULL,
		PRIMARY KEY (minute, uid, live_input, creator, country)
	) WITHOUT ROWID;`,

	// Videos outlive their live input: live_input is not a foreign key.
	`CREATE TABLE videos (
		uid TEXT PRIMARY KEY,
		live_input TEXT NOT NULL,
		created INTEGER NOT NULL,
		modified INTEGER NOT NULL,
		creator TEXT NOT NULL,
		meta TEXT NOT NULL,
		state TEXT NOT NULL,
		error_code TEXT NOT NULL DEFAULT '',
		error_text TEXT NOT NULL DEFAULT '',
		duration REAL NOT NULL DEFAULT -1,
		width INTEGER NOT NULL DEFAULT 0,
		height INTEGER NOT NULL DEFAULT 0,
		size INTEGER NOT NULL DEFAULT 0,
		scheduled_deletion INTEGER,
		require_signed_urls INTEGER NOT NULL DEFAULT 0,
		allowed_origins TEXT NOT NULL DEFAULT '[]'
	);
	CREATE INDEX videos_created ON videos (created, uid);
	CREATE INDEX videos_live_input ON videos (live_input, created);`,
}

// Store is onair's state in one SQLite file. It is safe for concurrent use.
type Store struct {
	db *sql.DB
}

// Open opens the SQLite file at path, creating it (mode 0600, since it holds
// credentials) when missing, and brings its schema up to date.
func Open(path string) (*Store, error) {
	if path == "" || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("store path %q: must be a non-empty file name without '?' or '#'",
			path)
	}

	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store path %q: %w", path, err)
	}

	f.Close()

	// Every pooled connection gets these pragmas. synchronous=FULL in WAL
	// mode syncs the log on every commit, so a commit outlives the process
	// and the machine. _txlock=immediate takes the write lock at BEGIN, so
	// that a read-modify-write transaction never fails half-way on upgrade.
	dsn := fmt.Sprintf("file:%s?_journal_mode=WAL&_synchronous=FULL&_busy_timeout=%d"+
		"&_foreign_keys=1&_txlock=immediate", path, busyTimeoutMillis)

	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, fmt.Errorf("store path %q: %w", path, err)
	}

	s := &Store{db: db}
	if err := s.check(); err != nil {
		db.Close()

		return nil, fmt.Errorf("store path %q: %w", path, err)
	}

	if err := s.migrate(); err != nil {
		db.Close()

		return nil, fmt.Errorf("store path %q: %w", path, err)
	}

	return s, nil
}

// Close closes the database. Writes already returned are on disk.
func (s *Store) Close() error {
	return s.db.Close()
}

// check verifies that the file is a database and that WAL mode took.
func (s *Store) check() error {
	var mode string
	if err := s.db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil {
		return err
	}

	if mode != "wal" {
		return fmt.Errorf("journal mode is %q, want \"wal\"", mode)
	}

	return nil
}

// migrate applies the migrations this file has not seen yet.
func (s *Store) migrate() error {
	_, err := s.db.Exec(`CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`)
	if err != nil {
		return fmt.Errorf("create schema_version: %w", err)
	}

	for {
		done, err := s.migrateOne()
		if err != nil || done {
			return err
		}
	}
}

// migrateOne applies the next migration, if any, and reports whether the
// schema is current.
func (s *Store) migrateOne() (bool, error) {
	tx, err := s.db.Begin()
	if err != nil {
		return false, err
	}
	defer tx.Rollback()

	var version int

	err = tx.QueryRow(`SELECT version FROM schema_version`).Scan(&version)
	if errors.Is(err, sql.ErrNoRows) {
		_, err = tx.Exec(`INSERT INTO schema_version (version) VALUES (0)`)
	}

	if err != nil {
		return false, fmt.Errorf("read schema_version: %w", err)
	}

	if version > len(migrations) {
		return false, fmt.Errorf("schema version %d is newer than this build's %d",
			version, len(migrations))
	}

	if version == len(migrations) {
		return true, tx.Commit()
	}

	if _, err := tx.Exec(migrations[version]); err != nil {
		return false, fmt.Errorf("migration %d: %w", version+1, err)
	}

	if _, err := tx.Exec(`UPDATE schema_version SET version = ?`, version+1); err != nil {
		return false, fmt.Errorf("migration %d: %w", version+1, err)
	}

	return false, tx.Commit()
}

// inTx runs fn in a write transaction and commits it when fn succeeds.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()

	if err := fn(tx); err != nil {
		return err
	}

	return tx.Commit()
}
