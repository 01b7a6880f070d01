package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// SigningKey is an RSA key that signs playback tokens. Its String and
// LogValue show only the id.
type SigningKey struct {
	ID         string // 32 lowercase hex digits
	Created    time.Time
	PublicPEM  string // PKIX public key, PEM
	PrivatePEM string // PKCS #1 private key, PEM; set only for onair's own key
}

// String names the key without its material.
func (k *SigningKey) String() string {
	return "signing key " + k.ID
}

// AddSigningKey keeps the public half of a key the account created, under a
// new id, and returns it.
func (s *Store) AddSigningKey(ctx context.Context, publicPEM string) (*SigningKey, error) {
	k := &SigningKey{ID: newSecret(), Created: now(), PublicPEM: publicPEM}

	_, err := s.db.ExecContext(ctx, `INSERT INTO signing_keys (id, created, public_pem)
		VALUES (?, ?, ?)`, k.ID, k.Created.UnixNano(), k.PublicPEM)
	if err != nil {
		return nil, fmt.Errorf("add signing key: %w", err)
	}

	return k, nil
}

// ListSigningKeys returns the account's keys (not onair's own), oldest first.
func (s *Store) ListSigningKeys(ctx context.Context) ([]*SigningKey, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, created, public_pem FROM signing_keys
		WHERE own = 0 ORDER BY created, id`)
	if err != nil {
		return nil, fmt.Errorf("list signing keys: %w", err)
	}
	defer rows.Close()

	list := []*SigningKey{}

	for rows.Next() {
		var (
			k       SigningKey
			created int64
		)

		if err := rows.Scan(&k.ID, &created, &k.PublicPEM); err != nil {
			return nil, fmt.Errorf("list signing keys: %w", err)
		}

		k.Created = fromUnixNano(created)
		list = append(list, &k)
	}

	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list signing keys: %w", err)
	}

	return list, nil
}

// DeleteSigningKey removes one of the account's keys; tokens it signed stop
// playing. It returns ErrNotFound for an unknown id or onair's own key.
func (s *Store) DeleteSigningKey(ctx context.Context, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM signing_keys WHERE id = ? AND own = 0`, id)
	if err != nil {
		return fmt.Errorf("delete signing key %q: %w", id, err)
	}

	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return fmt.Errorf("signing key %.64q: %w", id, cmpErr(err, ErrNotFound))
	}

	return nil
}

// SigningKey returns the public half of any key, onair's own included, or
// ErrNotFound.
func (s *Store) SigningKey(ctx context.Context, id string) (*SigningKey, error) {
	var (
		k       SigningKey
		created int64
	)

	err := s.db.QueryRowContext(ctx, `SELECT id, created, public_pem FROM signing_keys
		WHERE id = ?`, id).Scan(&k.ID, &created, &k.PublicPEM)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("signing key %.64q: %w", id, ErrNotFound)
	}

	if err != nil {
		return nil, fmt.Errorf("signing key %.64q: %w", id, err)
	}

	k.Created = fromUnixNano(created)

	return &k, nil
}

// OwnSigningKey returns onair's own key, with its private half. The first
// call stores the pair generate makes; concurrent first calls agree on one.
func (s *Store) OwnSigningKey(ctx context.Context,
	generate func() (publicPEM, privatePEM string, err error)) (*SigningKey, error) {
	k, err := s.ownSigningKey(ctx)
	if !errors.Is(err, ErrNotFound) {
		return k, err
	}

	pub, priv, err := generate()
	if err != nil {
		return nil, fmt.Errorf("own signing key: %w", err)
	}

	_, err = s.db.ExecContext(ctx, `INSERT INTO signing_keys (id, created, public_pem,
		private_pem, own) VALUES (?, ?, ?, ?, 1) ON CONFLICT DO NOTHING`,
		newSecret(), now().UnixNano(), pub, priv)
	if err != nil {
		return nil, fmt.Errorf("own signing key: %w", err)
	}

	return s.ownSigningKey(ctx)
}

func (s *Store) ownSigningKey(ctx context.Context) (*SigningKey, error) {
	var (
		k       SigningKey
		created int64
	)

	err := s.db.QueryRowContext(ctx, `SELECT id, created, public_pem, private_pem
		FROM signing_keys WHERE own = 1`).Scan(&k.ID, &created, &k.PublicPEM, &k.PrivatePEM)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("own signing key: %w", ErrNotFound)
	}

	if err != nil {
		return nil, fmt.Errorf("own signing key: %w", err)
	}

	k.Created = fromUnixNano(created)

	return &k, nil
}
