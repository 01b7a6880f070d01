package geoip

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/onair/onair/internal/geoip/geoiptest"
)

var testNets = []geoiptest.Network{
	{Prefix: "192.0.2.0/24", Country: "GB"},
	{Prefix: "198.51.100.0/25", Country: "FR"},
	{Prefix: "10.0.0.0/8", Country: "DE"},
	{Prefix: "2001:db8::/32", Country: "JP"},
}

func TestCountry(t *testing.T) {
	cases := []struct {
		addr string
		want string // "" for no country
	}{
		{"192.0.2.1", "GB"},
		{"192.0.2.255", "GB"},
		{"::ffff:192.0.2.7", "GB"},
		{"192.0.3.1", ""},
		{"198.51.100.127", "FR"},
		{"198.51.100.128", ""},
		{"10.200.3.4", "DE"},
		{"2001:db8:1::5", "JP"},
		{"2001:db9::1", ""},
		{"127.0.0.1", ""},
	}

	for _, size := range []int{24, 28, 32} {
		db, err := Parse(geoiptest.Build(testNets, size, 6))
		if err != nil {
			t.Fatalf("record size %d: %v", size, err)
		}

		for _, tc := range cases {
			got, ok := db.Country(netip.MustParseAddr(tc.addr))
			if got != tc.want || ok != (tc.want != "") {
				t.Errorf("record size %d: Country(%s) = %q, %v; want %q", size, tc.addr, got,
					ok, tc.want)
			}
		}
	}
}

func TestCountryIPv4Database(t *testing.T) {
	db, err := Parse(geoiptest.Build(testNets[:3], 24, 4))
	if err != nil {
		t.Fatal(err)
	}

	if got, _ := db.Country(netip.MustParseAddr("10.1.1.1")); got != "DE" {
		t.Errorf("10.1.1.1: %q, want DE", got)
	}

	if got, ok := db.Country(netip.MustParseAddr("2001:db8::1")); ok {
		t.Errorf("IPv6 address in an IPv4 database: %q", got)
	}
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.mmdb")
	bad := filepath.Join(dir, "bad.mmdb")

	os.WriteFile(good, geoiptest.Build(testNets, 24, 6), 0o600)
	os.WriteFile(bad, []byte("not a database"), 0o600)

	if _, err := Open(good); err != nil {
		t.Errorf("good file: %v", err)
	}

	if _, err := Open(bad); !errors.Is(err, ErrFormat) {
		t.Errorf("bad file: %v, want ErrFormat", err)
	}

	if _, err := Open(filepath.Join(dir, "missing.mmdb")); err == nil {
		t.Error("missing file opened")
	}
}

// FuzzCountry feeds mutated databases to the reader, which must fail or
// answer, never panic or hang.
func FuzzCountry(f *testing.F) {
	f.Add(geoiptest.Build(testNets, 24, 6), []byte{192, 0, 2, 1})
	f.Add(geoiptest.Build(testNets, 28, 6), []byte{10, 0, 0, 1})
	f.Add(geoiptest.Build(testNets[:3], 32, 4), []byte{198, 51, 100, 1})

	f.Fuzz(func(t *testing.T, data, ip []byte) {
		db, err := Parse(data)
		if err != nil {
			return
		}

		if addr, ok := netip.AddrFromSlice(ip); ok {
			db.Country(addr)
		}
	})
}
