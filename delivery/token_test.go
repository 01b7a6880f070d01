package delivery

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	keysOnce sync.Once
	keyA     *rsa.PrivateKey
	keyB     *rsa.PrivateKey
)

// testKeys returns two RSA keys, made once per test binary: "a" is known to
// the lookup, "b" is not.
func testKeys(t testing.TB) (*rsa.PrivateKey, *rsa.PrivateKey, KeyLookup) {
	t.Helper()

	keysOnce.Do(func() {
		keyA, _ = rsa.GenerateKey(rand.Reader, 2048)
		keyB, _ = rsa.GenerateKey(rand.Reader, 2048)
	})

	lookup := func(kid string) (*rsa.PublicKey, bool) {
		if kid == "a" {
			return &keyA.PublicKey, true
		}

		return nil, false
	}

	return keyA, keyB, lookup
}

func sign(t *testing.T, key *rsa.PrivateKey, c Claims) string {
	t.Helper()

	tok, err := SignToken(key, c)
	if err != nil {
		t.Fatal(err)
	}

	return tok
}

// handMade builds a token from raw header and payload JSON and a signature.
func handMade(header, payload string, sig []byte) string {
	enc := base64.RawURLEncoding

	return enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(payload)) + "." +
		enc.EncodeToString(sig)
}

func TestVerifyToken(t *testing.T) {
	a, b, keys := testKeys(t)
	now := time.Unix(1_800_000_000, 0)
	viewer := Viewer{Addr: netip.MustParseAddr("192.0.2.10"), Country: "GB"}
	good := Claims{Subject: "uid1", KeyID: "a", Expires: now.Unix() + 60}

	valid := sign(t, a, good)
	parts := strings.Split(valid, ".")

	// The valid token's payload with another subject, under the old signature.
	other, _ := json.Marshal(Claims{Subject: "uid2", KeyID: "a", Expires: now.Unix() + 60})
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString(other) + "." + parts[2]

	withRules := func(rules ...AccessRule) string {
		c := good
		c.AccessRules = rules

		return sign(t, a, c)
	}

	cases := []struct {
		name  string
		token string
		want  error
	}{
		{"valid", valid, nil},
		{"no exp", sign(t, a, Claims{Subject: "uid1", KeyID: "a"}), nil},
		{"expired", sign(t, a, Claims{Subject: "uid1", KeyID: "a", Expires: now.Unix()}),
			ErrTokenExpired},
		{"not yet valid", sign(t, a, Claims{Subject: "uid1", KeyID: "a",
			NotBefore: now.Unix() + 1}), ErrTokenNotYetValid},
		{"tampered payload", tampered, ErrTokenInvalid},
		{"unknown key", sign(t, b, Claims{Subject: "uid1", KeyID: "b"}), ErrTokenInvalid},
		{"signed by another key under a known kid", sign(t, b, Claims{Subject: "uid1",
			KeyID: "a"}), ErrTokenInvalid},
		{"alg none", handMade(`{"alg":"none","kid":"a"}`, `{"sub":"uid1","kid":"a"}`, nil),
			ErrTokenInvalid},
		{"alg HS256", handMade(`{"alg":"HS256","kid":"a"}`, `{"sub":"uid1","kid":"a"}`,
			[]byte("x")), ErrTokenInvalid},
		{"no subject", sign(t, a, Claims{KeyID: "a"}), ErrTokenInvalid},
		{"two parts", parts[0] + "." + parts[1], ErrTokenInvalid},
		{"bad base64", parts[0] + ".!!." + parts[2], ErrTokenInvalid},
		{"oversized", valid + strings.Repeat("A", maxTokenBytes), ErrTokenInvalid},
		{"ip allowed", withRules(AccessRule{Type: RuleIP, Action: ActionAllow,
			IP: []string{"192.0.2.0/24"}}, AccessRule{Type: RuleAny, Action: ActionBlock}), nil},
		{"ip blocked", withRules(AccessRule{Type: RuleIP, Action: ActionBlock,
			IP: []string{"192.0.2.10"}}), ErrTokenBlocked},
		{"other ip only", withRules(AccessRule{Type: RuleIP, Action: ActionAllow,
			IP: []string{"198.51.100.0/24"}}, AccessRule{Type: RuleAny, Action: ActionBlock}),
			ErrTokenBlocked},
		{"country allowed", withRules(AccessRule{Type: RuleCountry, Action: ActionAllow,
			Country: []string{"gb"}}, AccessRule{Type: RuleAny, Action: ActionBlock}), nil},
		{"country blocked", withRules(AccessRule{Type: RuleCountry, Action: ActionBlock,
			Country: []string{"FR", "GB"}}), ErrTokenBlocked},
		{"unknown rule type", handMadeSigned(t, a, `{"sub":"uid1","kid":"a",`+
			`"accessRules":[{"type":"time","action":"allow"}]}`), ErrTokenInvalid},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := VerifyToken(tc.token, keys, now, viewer)
			if !errors.Is(err, tc.want) || (err == nil && c.Subject != "uid1") {
				t.Fatalf("VerifyToken: %v, %v; want %v", c, err, tc.want)
			}
		})
	}
}

// handMadeSigned signs a raw payload with key, for claims SignToken refuses.
func handMadeSigned(t *testing.T, key *rsa.PrivateKey, payload string) string {
	t.Helper()

	enc := base64.RawURLEncoding
	signed := enc.EncodeToString([]byte(`{"alg":"RS256","kid":"a"}`)) + "." +
		enc.EncodeToString([]byte(payload))
	digest := sha256.Sum256([]byte(signed))

	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	if err != nil {
		t.Fatal(err)
	}

	return signed + "." + enc.EncodeToString(sig)
}

func TestOriginAllowed(t *testing.T) {
	patterns := []string{"example.com", "*.example.org", "video.example.net:8443"}

	cases := []struct {
		host string
		want bool
	}{
		{"example.com", true},
		{"EXAMPLE.com:8080", true},
		{"www.example.com", false},
		{"a.example.org", true},
		{"a.b.example.org", true},
		{"example.org", false},
		{"evilexample.org", false},
		{"video.example.net:8443", true},
		{"video.example.net", false},
		{"example.com.evil.test", false},
	}

	for _, tc := range cases {
		if got := OriginAllowed(patterns, tc.host); got != tc.want {
			t.Errorf("OriginAllowed(%q) = %v, want %v", tc.host, got, tc.want)
		}
	}
}
