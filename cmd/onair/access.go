package main

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/onair/onair/delivery"
	"github.com/onair/onair/store"
)

// Limits of the playback rules cache.
const (
	// accessTTL is how long a policy or key read from the store is used:
	// a change through the API applies to playback within it.
	accessTTL = time.Second

	// accessReadTimeout bounds one store read on the playback path.
	accessReadTimeout = 2 * time.Second
)

// newAccess answers delivery.Access from the store, through a short cache.
func newAccess(st *store.Store, log *slog.Logger) *delivery.CachedAccess {
	return &delivery.CachedAccess{Source: storeAccess{st}, TTL: accessTTL, Log: log}
}

// storeAccess reads playback rules and signing keys from the store.
type storeAccess struct {
	store *store.Store
}

// ReadPolicy implements delivery.AccessSource: the rules of a live input, or
// those a video kept from when its broadcast started.
func (s storeAccess) ReadPolicy(uid string) (delivery.Policy, error) {
	ctx, cancel := context.WithTimeout(context.Background(), accessReadTimeout)
	defer cancel()

	li, err := s.store.GetLiveInput(ctx, uid)
	if err == nil {
		return delivery.Policy{
			RequireSignedURLs:   li.Recording.RequireSignedURLs,
			AllowedOrigins:      li.Recording.AllowedOrigins,
			HideLiveViewerCount: li.Recording.HideLiveViewerCount,
			LiveInput:           li.UID,
			Creator:             li.DefaultCreator,
		}, nil
	}

	if !errors.Is(err, store.ErrNotFound) {
		return delivery.Policy{}, err
	}

	v, err := s.store.GetVideo(ctx, uid)
	if err != nil {
		return delivery.Policy{}, unknownIfNotFound(err)
	}

	return delivery.Policy{
		RequireSignedURLs: v.RequireSignedURLs,
		AllowedOrigins:    v.AllowedOrigins,
		LiveInput:         v.LiveInput,
		Creator:           v.Creator,
	}, nil
}

// ReadKey implements delivery.AccessSource.
func (s storeAccess) ReadKey(kid string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), accessReadTimeout)
	defer cancel()

	k, err := s.store.SigningKey(ctx, kid)
	if err != nil {
		return "", unknownIfNotFound(err)
	}

	return k.PublicPEM, nil
}

// unknownIfNotFound turns the store's ErrNotFound into delivery.ErrUnknownID.
func unknownIfNotFound(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return delivery.ErrUnknownID
	}

	return err
}
