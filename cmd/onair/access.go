package main

import (
	"context"
	"crypto/rsa"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/onair/onair/delivery"
	"github.com/onair/onair/store"
)

// Limits of the playback rules cache.
const (
	// accessTTL is how long a policy or key read from the store is used:
	// a change through the API applies to playback within it.
	accessTTL = time.Second

	// maxAccessEntries bounds each cache; past it the cache starts over.
	maxAccessEntries = 10000

	// accessReadTimeout bounds one store read on the playback path.
	accessReadTimeout = 2 * time.Second
)

// access answers delivery.Access from the store, through a short cache, so
// that a segment request costs a map lookup rather than a query.
type access struct {
	store *store.Store
	log   *slog.Logger

	mu       sync.Mutex
	policies map[string]policyEntry
	keys     map[string]keyEntry
}

type policyEntry struct {
	policy delivery.Policy
	found  bool
	until  time.Time
}

type keyEntry struct {
	key   *rsa.PublicKey
	until time.Time
}

func newAccess(st *store.Store, log *slog.Logger) *access {
	return &access{store: st, log: log, policies: map[string]policyEntry{},
		keys: map[string]keyEntry{}}
}

// Policy returns the playback rules of a live input or a video. A store
// failure denies unsigned playback rather than opening it.
func (a *access) Policy(uid string) (delivery.Policy, bool) {
	now := time.Now()

	a.mu.Lock()
	e, ok := a.policies[uid]
	a.mu.Unlock()

	if ok && now.Before(e.until) {
		return e.policy, e.found
	}

	ctx, cancel := context.WithTimeout(context.Background(), accessReadTimeout)
	defer cancel()

	li, err := a.store.GetLiveInput(ctx, uid)

	switch {
	case err == nil:
		e = policyEntry{found: true, policy: delivery.Policy{
			RequireSignedURLs:   li.Recording.RequireSignedURLs,
			AllowedOrigins:      li.Recording.AllowedOrigins,
			HideLiveViewerCount: li.Recording.HideLiveViewerCount,
			LiveInput:           li.UID,
			Creator:             li.DefaultCreator,
		}}

	case errors.Is(err, store.ErrNotFound):
		e, err = a.videoPolicy(ctx, uid)
		if errors.Is(err, store.ErrNotFound) {
			e, err = policyEntry{}, nil
		}
	}

	if err != nil {
		a.log.Warn("playback rules unreadable; unsigned playback refused", "id", uid,
			"error", err)

		return delivery.Policy{RequireSignedURLs: true}, true
	}

	e.until = now.Add(accessTTL)

	a.mu.Lock()
	if len(a.policies) >= maxAccessEntries {
		a.policies = map[string]policyEntry{}
	}
	a.policies[uid] = e
	a.mu.Unlock()

	return e.policy, e.found
}

// videoPolicy returns the playback rules of video uid, kept with the video
// when its broadcast started.
func (a *access) videoPolicy(ctx context.Context, uid string) (policyEntry, error) {
	v, err := a.store.GetVideo(ctx, uid)
	if err != nil {
		return policyEntry{}, err
	}

	return policyEntry{found: true, policy: delivery.Policy{
		RequireSignedURLs: v.RequireSignedURLs,
		AllowedOrigins:    v.AllowedOrigins,
		LiveInput:         v.LiveInput,
		Creator:           v.Creator,
	}}, nil
}

// PublicKey returns the public half of a signing key.
func (a *access) PublicKey(kid string) (*rsa.PublicKey, bool) {
	now := time.Now()

	a.mu.Lock()
	e, ok := a.keys[kid]
	a.mu.Unlock()

	if ok && now.Before(e.until) {
		return e.key, e.key != nil
	}

	ctx, cancel := context.WithTimeout(context.Background(), accessReadTimeout)
	defer cancel()

	k, err := a.store.SigningKey(ctx, kid)

	switch {
	case errors.Is(err, store.ErrNotFound):
		e = keyEntry{until: now.Add(accessTTL)}
	case err != nil:
		a.log.Warn("signing key unreadable", "key", kid, "error", err)

		return nil, false
	default:
		pub, err := delivery.ParsePublicPEM(k.PublicPEM)
		if err != nil {
			a.log.Warn("signing key unusable", "key", kid, "error", err)
		}

		e = keyEntry{key: pub, until: now.Add(accessTTL)}
	}

	a.mu.Lock()
	if len(a.keys) >= maxAccessEntries {
		a.keys = map[string]keyEntry{}
	}
	a.keys[kid] = e
	a.mu.Unlock()

	return e.key, e.key != nil
}
