// Package geoiptest writes small MaxMind DB files of known content, for
// tests of code that reads them.
package geoiptest

import (
	"bytes"
	"net/netip"
)

// marker starts the metadata section (MaxMind DB format, "Database Metadata").
var marker = []byte("\xAB\xCD\xEFMaxMind.com")

// separator is the count of zero bytes between the search tree and the data.
const separator = 16

// Network is one entry of a database: a CIDR range and its country.
type Network struct {
	Prefix  string
	Country string
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

// Build writes a MaxMind DB of nets, following the format's specification:
// an IPv6 (ipVersion 6, IPv4 under ::/96) or IPv4 search tree with records of
// recordSize bits (24, 28 or 32), whose data are {"country": {"iso_code"}}.
func Build(nets []Network, recordSize, ipVersion int) []byte {
	var section bytes.Buffer
	offsets := map[string]int{}
	root := newTrieNode()

	for _, n := range nets {
		if _, ok := offsets[n.Country]; !ok {
			offsets[n.Country] = section.Len()
			section.Write(countryRecord(n.Country))
		}

		p := netip.MustParsePrefix(n.Prefix)
		ip, bits := p.Addr().AsSlice(), p.Bits()

		if ipVersion == 6 && p.Addr().Is4() {
			ip, bits = append(make([]byte, 12), ip...), bits+96
		}

		node := root
		for i := 0; i < bits; i++ {
			bit := int(ip[i/8]>>(7-i%8)) & 1
			if i == bits-1 {
				node.data[bit] = offsets[n.Country]
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
				rec[b] = uint32(count + separator + n.data[b])
			default:
				rec[b] = uint32(count)
			}
		}

		out.Write(encodeRecords(rec, recordSize))
	}

	out.Write(make([]byte, separator))
	out.Write(section.Bytes())
	out.Write(marker)
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

func mapHeader(n int) []byte { return []byte{byte(7<<5 | n)} }

func str(s string) []byte { return append([]byte{byte(2<<5 | len(s))}, s...) }

func uint16Value(v uint16) []byte { return []byte{5<<5 | 2, byte(v >> 8), byte(v)} }

func uint32Value(v uint32) []byte {
	return []byte{6<<5 | 4, byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}
}
