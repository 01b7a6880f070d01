package delivery

import (
	"cmp"
	"crypto/rsa"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// Defaults of CachedAccess.
const (
	defaultAccessTTL = time.Second
	maxAccessEntries = 10_000 // per cache; past it the cache starts over
)

// ErrUnknownID is what an AccessSource returns for a uid or key id that does
// not exist; other errors mean the source could not be read.
var ErrUnknownID = errors.New("no such id")

// AccessSource is where a CachedAccess reads playback rules and signing keys:
// the store on an origin, the origins' EdgeAPI on an edge.
type AccessSource interface {
	// ReadPolicy returns the rules of a live input or video.
	ReadPolicy(uid string) (Policy, error)

	// ReadKey returns the public half of a signing key, PKIX in PEM.
	ReadKey(kid string) (string, error)
}

// CachedAccess is an Access that keeps each answer of its Source for TTL,
// so that a segment request costs a map lookup rather than a read. When the
// source cannot be read, unsigned playback is refused and tokens fail, rather
// than playing what may be private; such failures are not kept.
type CachedAccess struct {
	// Source answers what the cache does not hold. Required.
	Source AccessSource

	// TTL is how long an answer is used: a change applies to playback
	// within it. Zero means a second.
	TTL time.Duration

	// Log receives failures to read the source; nil discards them.
	Log *slog.Logger

	mu       sync.Mutex
	policies map[string]cachedPolicy
	keys     map[string]cachedKey
}

type cachedPolicy struct {
	policy Policy
	found  bool
	until  time.Time
}

type cachedKey struct {
	key   *rsa.PublicKey // nil: no such key, or an unusable one
	until time.Time
}

// Policy implements Access.
func (a *CachedAccess) Policy(uid string) (Policy, bool) {
	now := time.Now()

	a.mu.Lock()
	e, ok := a.policies[uid]
	a.mu.Unlock()

	if ok && now.Before(e.until) {
		return e.policy, e.found
	}

	p, err := a.Source.ReadPolicy(uid)

	switch {
	case errors.Is(err, ErrUnknownID):
		e = cachedPolicy{}
	case err != nil:
		a.logger().Warn("playback rules unavailable; unsigned playback refused", "id", uid,
			"error", err)

		return Policy{RequireSignedURLs: true}, true
	default:
		e = cachedPolicy{policy: p, found: true}
	}

	e.until = now.Add(cmp.Or(a.TTL, defaultAccessTTL))

	a.mu.Lock()
	if a.policies == nil || len(a.policies) >= maxAccessEntries {
		a.policies = map[string]cachedPolicy{}
	}
	a.policies[uid] = e
	a.mu.Unlock()

	return e.policy, e.found
}

// PublicKey implements Access.
func (a *CachedAccess) PublicKey(kid string) (*rsa.PublicKey, bool) {
	now := time.Now()

	a.mu.Lock()
	e, ok := a.keys[kid]
	a.mu.Unlock()

	if ok && now.Before(e.until) {
		return e.key, e.key != nil
	}

	pem, err := a.Source.ReadKey(kid)

	switch {
	case errors.Is(err, ErrUnknownID):
		e = cachedKey{}
	case err != nil:
		a.logger().Warn("signing key unavailable", "key", kid, "error", err)

		return nil, false
	default:
		if e.key, err = ParsePublicPEM(pem); err != nil {
			a.logger().Warn("signing key unusable", "key", kid, "error", err)
		}
	}

	e.until = now.Add(cmp.Or(a.TTL, defaultAccessTTL))

	a.mu.Lock()
	if a.keys == nil || len(a.keys) >= maxAccessEntries {
		a.keys = map[string]cachedKey{}
	}
	a.keys[kid] = e
	a.mu.Unlock()

	return e.key, e.key != nil
}

func (a *CachedAccess) logger() *slog.Logger {
	if a.Log == nil {
		return slog.New(slog.DiscardHandler)
	}

	return a.Log
}
