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
	defaultRemoteTimeout = 5 * time.Second
	maxRemoteBody        = 64 << 10
)

// RemoteAccess is the Access of an edge: it asks the origins' EdgeAPI and
// keeps each answer for TTL, through a CachedAccess. When no origin answers,
// unsigned playback is refused and tokens fail, rather than playing what may
// be private.
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

	once  sync.Once
	cache *CachedAccess
}

// errNoSuch is an origin's 404.
var errNoSuch = fmt.Errorf("not at the origin: %w", ErrUnknownID)

// Policy implements Access.
func (a *RemoteAccess) Policy(uid string) (Policy, bool) {
	return a.cached().Policy(uid)
}

// PublicKey implements Access.
func (a *RemoteAccess) PublicKey(kid string) (*rsa.PublicKey, bool) {
	return a.cached().PublicKey(kid)
}

func (a *RemoteAccess) cached() *CachedAccess {
	a.once.Do(func() {
		a.cache = &CachedAccess{Source: originSource{a}, TTL: a.TTL, Log: a.Log}
	})

	return a.cache
}

// originSource reads what a RemoteAccess caches from the origins.
type originSource struct{ a *RemoteAccess }

// ReadPolicy implements AccessSource.
func (o originSource) ReadPolicy(uid string) (Policy, error) {
	var p policyJSON
	if err := o.a.get("policy/"+url.PathEscape(uid), &p); err != nil {
		return Policy{}, err
	}

	return Policy{RequireSignedURLs: p.RequireSignedURLs, AllowedOrigins: p.AllowedOrigins,
		HideLiveViewerCount: p.HideLiveViewerCount, LiveInput: p.LiveInput,
		Creator: p.Creator}, nil
}

// ReadKey implements AccessSource.
func (o originSource) ReadKey(kid string) (string, error) {
	var k keyJSON
	if err := o.a.get("key/"+url.PathEscape(kid), &k); err != nil {
		return "", err
	}

	return k.PEM, nil
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
