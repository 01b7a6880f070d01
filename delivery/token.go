package delivery

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// Token failures. ErrTokenInvalid, ErrTokenExpired and ErrTokenNotYetValid
// answer 401; ErrTokenBlocked answers 403. None says whether the video exists.
var (
	ErrTokenInvalid     = errors.New("token is malformed, unsigned or signed by an unknown key")
	ErrTokenExpired     = errors.New("token has expired")
	ErrTokenNotYetValid = errors.New("token is not valid yet")
	ErrTokenBlocked     = errors.New("token's access rules refuse this viewer")
)

// maxTokenBytes bounds a token; a 2048-bit RS256 JWT with a few rules is
// well under 1 KiB.
const maxTokenBytes = 4096

// Access rule types and actions, as Cloudflare Stream names them.
const (
	RuleAny     = "any"
	RuleIP      = "ip.src"
	RuleCountry = "ip.geoip.country"

	ActionAllow = "allow"
	ActionBlock = "block"
)

// AccessRule allows or blocks viewers by address or country. The rules of a
// token are tried in order; the first that matches decides, and a viewer no
// rule matches is allowed.
type AccessRule struct {
	Type    string   `json:"type"`
	Action  string   `json:"action"`
	IP      []string `json:"ip,omitempty"`      // addresses or CIDR ranges, for ip.src
	Country []string `json:"country,omitempty"` // ISO 3166-1 alpha-2, for ip.geoip.country
}

// Claims are the fields of a playback token (RFC 7519 4.1 and Cloudflare's
// accessRules).
type Claims struct {
	Subject     string       `json:"sub"`           // the video or live input uid
	KeyID       string       `json:"kid,omitempty"` // the signing key
	Expires     int64        `json:"exp,omitempty"` // Unix seconds; 0: never
	NotBefore   int64        `json:"nbf,omitempty"` // Unix seconds; 0: at once
	AccessRules []AccessRule `json:"accessRules,omitempty"`
}

// tokenHeader is the JOSE header (RFC 7515 4.1).
type tokenHeader struct {
	Alg string `json:"alg"`
	Kid string `json:"kid,omitempty"`
	Typ string `json:"typ,omitempty"`
}

// Viewer is who asks for playback, for the access rules.
type Viewer struct {
	Addr    netip.Addr
	Country string // ISO 3166-1 alpha-2; "XX" when unknown
}

// KeyLookup returns the RSA public key of a signing key id, and whether
// there is one.
type KeyLookup func(kid string) (*rsa.PublicKey, bool)

// LooksLikeToken says whether a playback id is a JWT rather than a uid.
func LooksLikeToken(id string) bool {
	return strings.Count(id, ".") == 2
}

// SignToken returns claims as a compact RS256 JWT (RFC 7515 7.1) signed by
// key, with claims.KeyID in the header.
func SignToken(key *rsa.PrivateKey, claims Claims) (string, error) {
	if err := CheckRules(claims.AccessRules); err != nil {
		return "", err
	}

	header, err := json.Marshal(tokenHeader{Alg: "RS256", Kid: claims.KeyID, Typ: "JWT"})
	if err != nil {
		return "", err
	}

	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}

	enc := base64.RawURLEncoding
	signed := enc.EncodeToString(header) + "." + enc.EncodeToString(payload)
	digest := sha256.Sum256([]byte(signed))

	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}

	return signed + "." + enc.EncodeToString(sig), nil
}

// VerifyToken checks an RS256 token's signature with the key its kid names,
// its validity times against now, and its access rules against v, and
// returns its claims. Only RS256 is accepted (RFC 8725 3.1): a token naming
// another algorithm, "none" included, is invalid.
func VerifyToken(token string, keys KeyLookup, now time.Time, v Viewer) (*Claims, error) {
	return verifyToken(token, keys, now, &v)
}

// verifyToken is VerifyToken; a nil v skips the access rules, for requests
// from a trusted edge that checked them against its own viewer.
func verifyToken(token string, keys KeyLookup, now time.Time, v *Viewer) (*Claims, error) {
	claims, err := parseToken(token, keys)
	if err != nil {
		return nil, err
	}

	return checkClaims(claims, now, v)
}

// checkClaims checks the times and, unless v is nil, the access rules of
// claims whose signature was checked.
func checkClaims(claims *Claims, now time.Time, v *Viewer) (*Claims, error) {
	t := now.Unix()
	if claims.Expires != 0 && t >= claims.Expires {
		return nil, ErrTokenExpired
	}

	if claims.NotBefore != 0 && t < claims.NotBefore {
		return nil, ErrTokenNotYetValid
	}

	if v != nil && !allowed(claims.AccessRules, *v) {
		return nil, ErrTokenBlocked
	}

	return claims, nil
}

// parseToken decodes a token and checks its signature.
func parseToken(token string, keys KeyLookup) (*Claims, error) {
	if len(token) > maxTokenBytes {
		return nil, ErrTokenInvalid
	}

	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, ErrTokenInvalid
	}

	enc := base64.RawURLEncoding

	var h tokenHeader
	if raw, err := enc.DecodeString(parts[0]); err != nil || json.Unmarshal(raw, &h) != nil ||
		h.Alg != "RS256" {
		return nil, ErrTokenInvalid
	}

	var c Claims
	payload, err := enc.DecodeString(parts[1])
	if err != nil || json.Unmarshal(payload, &c) != nil || c.Subject == "" {
		return nil, ErrTokenInvalid
	}

	kid := h.Kid
	if kid == "" {
		kid = c.KeyID
	}

	if c.KeyID != "" && c.KeyID != kid {
		return nil, ErrTokenInvalid
	}

	key, ok := keys(kid)
	if !ok || key == nil {
		return nil, ErrTokenInvalid
	}

	sig, err := enc.DecodeString(parts[2])
	if err != nil {
		return nil, ErrTokenInvalid
	}

	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(key, crypto.SHA256, digest[:], sig) != nil {
		return nil, ErrTokenInvalid
	}

	// Rules are checked after the signature, so that an unsigned token learns
	// nothing from the answer.
	if CheckRules(c.AccessRules) != nil {
		return nil, ErrTokenInvalid
	}

	c.KeyID = kid

	return &c, nil
}

// CheckRules refuses rules with an unknown type or action, or a bad range.
func CheckRules(rules []AccessRule) error {
	for i, r := range rules {
		if r.Action != ActionAllow && r.Action != ActionBlock {
			return fmt.Errorf("access rule %d: action %.20q: want allow or block", i, r.Action)
		}

		switch r.Type {
		case RuleAny:
		case RuleIP:
			for _, s := range r.IP {
				if _, err := parsePrefix(s); err != nil {
					return fmt.Errorf("access rule %d: %w", i, err)
				}
			}
		case RuleCountry:
		default:
			return fmt.Errorf("access rule %d: type %.32q: want any, ip.src or ip.geoip.country",
				i, r.Type)
		}
	}

	return nil
}

// parsePrefix reads an address (a one-address range) or a CIDR range.
func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("ip range %.64q: %w", s, err)
		}

		return p.Masked(), nil
	}

	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("ip %.64q: %w", s, err)
	}

	return netip.PrefixFrom(a, a.BitLen()), nil
}

// allowed applies rules to v: the first rule that matches decides.
func allowed(rules []AccessRule, v Viewer) bool {
	for _, r := range rules {
		if matches(r, v) {
			return r.Action == ActionAllow
		}
	}

	return true
}

func matches(r AccessRule, v Viewer) bool {
	switch r.Type {
	case RuleAny:
		return true
	case RuleCountry:
		return slices.ContainsFunc(r.Country, func(c string) bool {
			return strings.EqualFold(c, v.Country)
		})
	case RuleIP:
		addr := v.Addr.Unmap()

		for _, s := range r.IP {
			if p, err := parsePrefix(s); err == nil && p.Contains(addr) {
				return true
			}
		}
	}

	return false
}

// ParsePublicPEM reads a PKIX RSA public key in PEM, as the store keeps the
// public half of a signing key.
func ParsePublicPEM(s string) (*rsa.PublicKey, error) {
	block, _ := pem.Decode([]byte(s))
	if block == nil {
		return nil, errors.New("signing key: no PEM block")
	}

	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}

	key, ok := pub.(*rsa.PublicKey)
	if !ok {
		return nil, errors.New("signing key: not an RSA key")
	}

	return key, nil
}
