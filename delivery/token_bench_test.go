package delivery

import (
	"net/netip"
	"testing"
	"time"
)

// BenchmarkVerifyToken measures an RS256 check (2048-bit key, two access
// rules), which a Guard makes once a second per token.
func BenchmarkVerifyToken(b *testing.B) {
	a, _, keys := testKeys(b)
	tok, err := SignToken(a, Claims{Subject: "uid1", KeyID: "a", AccessRules: []AccessRule{
		{Type: RuleIP, Action: ActionAllow, IP: []string{"192.0.2.0/24"}},
		{Type: RuleAny, Action: ActionBlock}}})
	if err != nil {
		b.Fatal(err)
	}

	v := Viewer{Addr: netip.MustParseAddr("192.0.2.1"), Country: "GB"}
	now := time.Now()

	for b.Loop() {
		if _, err := VerifyToken(tok, keys, now, v); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGuardToken measures what a request with a token pays at a Guard:
// a remembered signature, then the times and rules.
func BenchmarkGuardToken(b *testing.B) {
	a, _, keys := testKeys(b)
	tok, err := SignToken(a, Claims{Subject: "uid1", KeyID: "a"})
	if err != nil {
		b.Fatal(err)
	}

	g := &Guard{Access: &rules{keys: keys}}
	v := &Viewer{Addr: netip.MustParseAddr("192.0.2.1"), Country: "GB"}

	for b.Loop() {
		if _, err := g.verify(tok, v); err != nil {
			b.Fatal(err)
		}
	}
}
