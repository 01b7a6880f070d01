package delivery

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Defaults of RemoteAccess and ViewReporter.
const (
	defaultRemoteTTL     = time.Second
	defaultRemoteTimeout = 5 * time.Second
	maxRemoteEntries     = 10_000
	maxRemoteBody        = 64 << 10
)

// RemoteAccess is the Access of an edge: it asks the origins' EdgeAPI and
// keeps each answer for TTL. When no origin answers, unsigned playback is
// refused and tokens fail, rather than playing what may be private.
type RemoteAccess struct {
	// Origins are tried in turn. Required.
	Origins []*url.URL

	// Token is the EdgeAPI's bearer token. Required.
	Token string

	// Client makes the requests; nil means http.DefaultClient.
	Client *http.Client

	// TTL is how long an answer is used. Zero means a second.
	TTL time.Duration

	// Log receives failures to reach the origins; nil discards them.
	Log *slog.Logger

	mu       sync.Mutex
	policies map[string]remotePolicy
	keys     map[string]remoteKey
}

type remotePolicy struct {
	policy Policy
	found  bool
	until  time.Time
}

type remoteKey struct {
	key   *rsa.PublicKey
	until time.Time
}

// errNoSuch is an origin's 404.
var errNoSuch = errors.New("not at the origin")

// Policy implements Access.
func (a *RemoteAccess) Policy(uid string) (Policy, bool) {
	now := time.Now()

	a.mu.Lock()
	e, ok := a.policies[uid]
	a.mu.Unlock()

	if ok && now.Before(e.until) {
		return e.policy, e.found
	}

	var p policyJSON

	err := a.get("policy/"+url.PathEscape(uid), &p)

	switch {
	case errors.Is(err, errNoSuch):
		e = remotePolicy{until: now.Add(a.ttl())}
	case err != nil:
		a.logger().Warn("playback rules unavailable; unsigned playback refused", "id", uid,
			"error", err)

		return Policy{RequireSignedURLs: true}, true
	default:
		e = remotePolicy{found: true, until: now.Add(a.ttl()), policy: Policy{
			RequireSignedURLs: p.RequireSignedURLs, AllowedOrigins: p.AllowedOrigins,
			HideLiveViewerCount: p.HideLiveViewerCount, LiveInput: p.LiveInput,
			Creator: p.Creator}}
	}

	a.mu.Lock()
	if a.policies == nil || len(a.policies) >= maxRemoteEntries {
		a.policies = map[string]remotePolicy{}
	}
	a.policies[uid] = e
	a.mu.Unlock()

	return e.policy, e.found
}

// PublicKey implements Access.
func (a *RemoteAccess) PublicKey(kid string) (*rsa.PublicKey, bool) {
	now := time.Now()

	a.mu.Lock()
	e, ok := a.keys[kid]
	a.mu.Unlock()

	if ok && now.Before(e.until) {
		return e.key, e.key != nil
	}

	var k keyJSON

	err := a.get("key/"+url.PathEscape(kid), &k)

	switch {
	case errors.Is(err, errNoSuch):
		e = remoteKey{until: now.Add(a.ttl())}
	case err != nil:
		a.logger().Warn("signing key unavailable", "key", kid, "error", err)

		return nil, false
	default:
		pub, err := ParsePublicPEM(k.PEM)
		if err != nil {
			a.logger().Warn("signing key unusable", "key", kid, "error", err)
		}

		e = remoteKey{key: pub, until: now.Add(a.ttl())}
	}

	a.mu.Lock()
	if a.keys == nil || len(a.keys) >= maxRemoteEntries {
		a.keys = map[string]remoteKey{}
	}
	a.keys[kid] = e
	a.mu.Unlock()

	return e.key, e.key != nil
}

// get asks the origins in turn for EdgePath+rel and decodes the answer.
func (a *RemoteAccess) get(rel string, out any) error {
	var errs []error

	for _, o := range a.Origins {
		data, err := edgeCall(a.Client, o, a.Token, http.MethodGet, rel, nil)
		if err == nil {
			return json.Unmarshal(data, out)
		}

		if errors.Is(err, errNoSuch) {
			return err
		}

		errs = append(errs, err)
	}

	return errors.Join(errs...)
}

// edgeCall makes one EdgeAPI request to origin o.
func edgeCall(c *http.Client, o *url.URL, token, method, rel string, body []byte) ([]byte,
	error) {
	ctx, cancel := context.WithTimeout(context.Background(), defaultRemoteTimeout)
	defer cancel()

	u := *o
	u.Path = strings.TrimRight(u.Path, "/") + EdgePath + rel
	u.RawPath, u.RawQuery = "", ""

	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}

	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set(EdgeHeader, "1")

	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}

	resp, err := cmp.Or(c, http.DefaultClient).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()

	data, err := io.ReadAll(io.LimitReader(resp.Body, maxRemoteBody))
	if err != nil {
		return nil, err
	}

	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil, errNoSuch
	case resp.StatusCode/100 != 2:
		return nil, fmt.Errorf("origin %s answered %d", o.Host, resp.StatusCode)
	}

	return data, nil
}

func (a *RemoteAccess) ttl() time.Duration {
	return cmp.Or(a.TTL, defaultRemoteTTL)
}

func (a *RemoteAccess) logger() *slog.Logger {
	if a.Log == nil {
		return slog.New(slog.DiscardHandler)
	}

	return a.Log
}
