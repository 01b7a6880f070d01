package geoip

import (
	"bytes"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
)

// network is one entry of a test database.
type network struct {
	prefix  string
	country string
}

// trieNode is a node of the search tree a test database is built from; a
// slot holds a child, a data offset (data >= 0), or nothing.
type trieNode struct {
	child [2]*trieNode
	data  [2]int
}

func newTrieNode() *trieNode {
	return &trieNode{data: [2]int{-1, -1}}
}

// buildDB writes a MaxMind DB of nets, following the format's specification,
// so that the reader is tested against files of known content.
func buildDB(t testing.TB, nets []network, recordSize, ipVersion int) []byte {
	t.Helper()

	var section bytes.Buffer
	offsets := map[string]int{}
	root := newTrieNode()

	for _, n := range nets {
		if _, ok := offsets[n.country]; !ok {
			offsets[n.country] = section.Len()
			section.Write(countryRecord(n.country))
		}

		p := netip.MustParsePrefix(n.prefix)
		ip, bits := p.Addr().AsSlice(), p.Bits()

		if ipVersion == 6 && p.Addr().Is4() {
			ip, bits = append(make([]byte, 12), ip...), bits+96
		}

		node := root
		for i := 0; i < bits; i++ {
			bit := int(ip[i/8]>>(7-i%8)) & 1
			if i == bits-1 {
				node.data[bit] = offsets[n.country]
				break
			}

			if node.child[bit] == nil {
				node.child[bit] = newTrieNode()
			}

			node = node.child[bit]
		}
	}

	// Number the nodes breadth first.
	order := []*trieNode{root}
	index := map[*trieNode]int{root: 0}

	for i := 0; i < len(order); i++ {
		for _, c := range order[i].child {
			if c != nil {
				index[c] = len(order)
				order = append(order, c)
			}
		}
	}

	count := len(order)

	var out bytes.Buffer

	for _, n := range order {
		var rec [2]uint32

		for b := range 2 {
			switch {
			case n.child[b] != nil:
				rec[b] = uint32(index[n.child[b]])
			case n.data[b] >= 0:
				rec[b] = uint32(count + dataSeparator + n.data[b])
			default:
				rec[b] = uint32(count)
			}
		}

		out.Write(encodeRecords(rec, recordSize))
	}

	out.Write(make([]byte, dataSeparator))
	out.Write(section.Bytes())
	out.Write(metadataMarker)
	out.Write(mapHeader(4))
	out.Write(str("node_count"))
	out.Write(uint32Value(uint32(count)))
	out.Write(str("record_size"))
	out.Write(uint16Value(uint16(recordSize)))
	out.Write(str("ip_version"))
	out.Write(uint16Value(uint16(ipVersion)))
	out.Write(str("database_type"))
	out.Write(str("onair-test-country"))

	return out.Bytes()
}

func encodeRecords(r [2]uint32, size int) []byte {
	switch size {
	case 24:
		return []byte{byte(r[0] >> 16), byte(r[0] >> 8), byte(r[0]),
			byte(r[1] >> 16), byte(r[1] >> 8), byte(r[1])}
	case 28:
		return []byte{byte(r[0] >> 16), byte(r[0] >> 8), byte(r[0]),
			byte(r[0]>>24)<<4 | byte(r[1]>>24)&0x0f, byte(r[1] >> 16), byte(r[1] >> 8), byte(r[1])}
	default:
		return []byte{byte(r[0] >> 24), byte(r[0] >> 16), byte(r[0] >> 8), byte(r[0]),
			byte(r[1] >> 24), byte(r[1] >> 16), byte(r[1] >> 8), byte(r[1])}
	}
}

// countryRecord is {"country": {"iso_code": cc}}.
func countryRecord(cc string) []byte {
	var b bytes.Buffer

	b.Write(mapHeader(1))
	b.Write(str("country"))
	b.Write(mapHeader(1))
	b.Write(str("iso_code"))
	b.Write(str(cc))

	return b.Bytes()
}

func mapHeader(n int) []byte { return []byte{byte(typeMap<<5 | n)} }

func str(s string) []byte { return append([]byte{byte(typeString<<5 | len(s))}, s...) }

func uint16Value(v uint16) []byte { return []byte{typeUint16<<5 | 2, byte(v >> 8), byte(v)} }

func uint32Value(v uint32) []byte {
	return []byte{typeUint32<<5 | 4, byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}
}

var testNets = []network{
	{"192.0.2.0/24", "GB"},
	{"198.51.100.0/25", "FR"},
	{"10.0.0.0/8", "DE"},
	{"2001:db8::/32", "JP"},
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
		db, err := Parse(buildDB(t, testNets, size, 6))
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
	db, err := Parse(buildDB(t, testNets[:3], 24, 4))
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

	os.WriteFile(good, buildDB(t, testNets, 24, 6), 0o600)
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
	f.Add(buildDB(f, testNets, 24, 6), []byte{192, 0, 2, 1})
	f.Add(buildDB(f, testNets, 28, 6), []byte{10, 0, 0, 1})
	f.Add(buildDB(f, testNets[:3], 32, 4), []byte{198, 51, 100, 1})

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
