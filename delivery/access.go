package delivery

import (
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"
)

// UnknownCountry is the country of a viewer whose country is not known.
const UnknownCountry = "XX"

// Policy is who may play a live input or a video.
type Policy struct {
	RequireSignedURLs   bool     // only a valid token in place of the uid plays
	AllowedOrigins      []string // hosts (or *.host) that may embed; empty: any
	HideLiveViewerCount bool     // /{id}/views answers 404

	// LiveInput and Creator are the analytics dimensions of the uid.
	LiveInput, Creator string
}

// Access gives the playback rules of uids and the public keys tokens are
// checked with. Calls are made on every playback request: answer from
// memory, or from a cache.
type Access interface {
	// Policy returns the rules of a live input or video uid, and whether
	// there is such a uid.
	Policy(uid string) (Policy, bool)

	// PublicKey returns the key of a signing key id, and whether there is one.
	PublicKey(kid string) (*rsa.PublicKey, bool)
}

// Guard enforces signed URLs and allowed origins on playback requests, the
// same way at the origin and at an edge.
type Guard struct {
	// Access gives the rules; nil lets every request through unchecked.
	Access Access

	// Country returns the viewer's ISO 3166-1 country code for accessRules;
	// nil means UnknownCountry.
	Country func(r *http.Request) string

	// Now is the clock tokens are checked against; nil means time.Now.
	Now func() time.Time

	// EdgeToken, when set, is the bearer token of trusted edges. A request
	// with EdgeHeader and this token comes from an edge that has checked the
	// viewer's address, country and origin itself, so those are not checked
	// again against the edge's; signatures, subjects and times still are.
	EdgeToken string

	mu     sync.Mutex
	tokens map[string]verifiedToken // signatures checked lately
}

// Limits of the cache of checked signatures.
const (
	// verifiedFor is how long a token's checked signature is trusted: a
	// deleted key stops its tokens within it, and a viewer's segments cost
	// one RSA verification per token and period instead of one each.
	verifiedFor = time.Second

	// maxVerified bounds the tokens remembered; past it the cache starts over.
	maxVerified = 10_000
)

// verifiedToken is a token whose signature was checked at a time.
type verifiedToken struct {
	claims *Claims
	until  time.Time
}

// Check turns the playback id of r (a uid, or a token in its place) into
// the uid to serve, after checking the rules. When the request may not be
// served it answers it and returns false. Every token failure answers the
// same way whether or not its video exists.
func (g *Guard) Check(w http.ResponseWriter, r *http.Request, id string) (string, bool) {
	if g == nil || g.Access == nil {
		return id, true
	}

	uid, signed, trusted := id, false, g.trusted(r)

	if LooksLikeToken(id) {
		var v *Viewer
		if !trusted {
			viewer := g.viewer(r)
			v = &viewer
		}

		claims, err := g.verify(id, v)
		if err != nil {
			status := http.StatusUnauthorized
			if errors.Is(err, ErrTokenBlocked) {
				status = http.StatusForbidden
			}

			fail(w, status, "access denied")

			return "", false
		}

		uid, signed = claims.Subject, true
	}

	pol, ok := g.Access.Policy(uid)

	switch {
	case !ok && signed:
		// A token signed for nothing that exists: as refused as a bad one.
		fail(w, http.StatusForbidden, "access denied")

		return "", false
	case !ok:
		return uid, true // the handler answers 404
	case pol.RequireSignedURLs && !signed:
		fail(w, http.StatusUnauthorized, "access denied: this video plays only with a signed token")

		return "", false
	}

	if len(pol.AllowedOrigins) > 0 && !trusted && !g.originAllowed(w, r, pol.AllowedOrigins) {
		fail(w, http.StatusForbidden, "access denied: origin not allowed")

		return "", false
	}

	return uid, true
}

// verify checks a token: its signature (or a check of it made within
// verifiedFor), then its times and, unless v is nil, its access rules.
func (g *Guard) verify(token string, v *Viewer) (*Claims, error) {
	now := g.now()

	g.mu.Lock()
	e, ok := g.tokens[token]
	g.mu.Unlock()

	if !ok || !now.Before(e.until) {
		claims, err := parseToken(token, g.Access.PublicKey)
		if err != nil {
			return nil, err
		}

		e = verifiedToken{claims: claims, until: now.Add(verifiedFor)}

		g.mu.Lock()
		if g.tokens == nil || len(g.tokens) >= maxVerified {
			g.tokens = map[string]verifiedToken{}
		}
		g.tokens[token] = e
		g.mu.Unlock()
	}

	return checkClaims(e.claims, now, v)
}

// trusted says whether r comes from an edge holding EdgeToken.
func (g *Guard) trusted(r *http.Request) bool {
	if g.EdgeToken == "" || r.Header.Get(EdgeHeader) == "" {
		return false
	}

	return BearerMatches(r, g.EdgeToken)
}

// BearerMatches says whether r carries "Authorization: Bearer token". The
// token is compared through its SHA-256 in constant time.
func BearerMatches(r *http.Request, token string) bool {
	scheme, got, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return false
	}

	a, b := sha256.Sum256([]byte(strings.TrimSpace(got))), sha256.Sum256([]byte(token))

	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// policy returns the rules of uid, when there is a Guard with Access.
func (g *Guard) policy(uid string) (Policy, bool) {
	if g == nil || g.Access == nil {
		return Policy{}, false
	}

	return g.Access.Policy(uid)
}

// originAllowed checks the host of the Origin header (else of the Referer)
// against patterns. A request with neither is not from a browser page and
// passes. When Origin matches, the CORS answer names it instead of "*".
func (g *Guard) originAllowed(w http.ResponseWriter, r *http.Request, patterns []string) bool {
	origin := r.Header.Get("Origin")
	source := origin

	if source == "" {
		source = r.Header.Get("Referer")
	}

	if source == "" {
		return true
	}

	u, err := url.Parse(source)
	if err != nil || u.Host == "" || !OriginAllowed(patterns, u.Host) {
		return false
	}

	if origin != "" {
		hdr := w.Header()
		hdr.Set("Access-Control-Allow-Origin", origin)
		hdr.Add("Vary", "Origin")
	}

	return true
}

// OriginAllowed says whether host (with an optional port) matches one of
// patterns: "example.com" is that host on any port, "example.com:8443" that
// port only, and "*.example.com" every subdomain of example.com (not
// example.com itself). Case is ignored.
func OriginAllowed(patterns []string, host string) bool {
	host = strings.ToLower(host)
	name, port := host, ""

	if h, p, err := net.SplitHostPort(host); err == nil {
		name, port = h, p
	}

	for _, pat := range patterns {
		pat = strings.ToLower(pat)
		pname, pport := pat, ""

		if h, p, err := net.SplitHostPort(pat); err == nil {
			pname, pport = h, p
		}

		if pport != "" && pport != port {
			continue
		}

		if suffix, ok := strings.CutPrefix(pname, "*."); ok {
			if strings.HasSuffix(name, "."+suffix) {
				return true
			}

			continue
		}

		if name == pname {
			return true
		}
	}

	return false
}

// viewer is who sent r, for access rules.
func (g *Guard) viewer(r *http.Request) Viewer {
	v := Viewer{Country: g.country(r)}

	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		v.Addr = ap.Addr()
	}

	return v
}

// country is the viewer's country, UnknownCountry when not known.
func (g *Guard) country(r *http.Request) string {
	if g == nil || g.Country == nil {
		return UnknownCountry
	}

	if c := g.Country(r); c != "" {
		return c
	}

	return UnknownCountry
}

func (g *Guard) now() time.Time {
	if g.Now == nil {
		return time.Now()
	}

	return g.Now()
}
