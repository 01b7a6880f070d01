package geoip

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"sync"
)

// metadataMarker starts the metadata section, which ends the file.
var metadataMarker = []byte("\xAB\xCD\xEFMaxMind.com")

// dataSeparator is the 16 zero bytes between the search tree and the data
// section.
const dataSeparator = 16

// maxCached bounds the decoded records kept; a country database has a few
// hundred, a city database a few hundred thousand.
const maxCached = 100_000

// maxFileBytes bounds a database read into memory.
const maxFileBytes = 1 << 30

// ErrFormat is returned for a file that is not a MaxMind DB.
var ErrFormat = errors.New("not a MaxMind DB file")

// DB is a MaxMind DB held in memory. It is safe for concurrent use.
type DB struct {
	data       []byte
	nodeCount  uint32
	recordSize uint32 // bits: 24, 28 or 32
	ipVersion  int    // 4 or 6
	dataStart  int    // offset of the data section
	ipv4Start  uint32 // node of ::/96 in an IPv6 tree

	mu        sync.Mutex
	countries map[int]string // data offset → country code, "" for none
}

// Open reads the database at path.
func Open(path string) (*DB, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}

	if st.Size() > maxFileBytes {
		return nil, fmt.Errorf("geoip %s: %d bytes, over the %d-byte limit", path, st.Size(),
			maxFileBytes)
	}

	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}

	db, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("geoip %s: %w", path, err)
	}

	return db, nil
}

// Parse reads a database from its bytes, which it keeps.
func Parse(data []byte) (*DB, error) {
	at := bytes.LastIndex(data, metadataMarker)
	if at < 0 {
		return nil, fmt.Errorf("no metadata marker: %w", ErrFormat)
	}

	meta := data[at+len(metadataMarker):]
	d := decoder{data: meta}

	v, _, err := d.decode(0, 0)
	if err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}

	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("metadata is not a map: %w", ErrFormat)
	}

	db := &DB{data: data, countries: map[int]string{}}
	db.nodeCount = uint32(asUint(m["node_count"]))
	db.recordSize = uint32(asUint(m["record_size"]))
	db.ipVersion = int(asUint(m["ip_version"]))

	if db.recordSize != 24 && db.recordSize != 28 && db.recordSize != 32 {
		return nil, fmt.Errorf("record size %d: want 24, 28 or 32: %w", db.recordSize, ErrFormat)
	}

	if db.ipVersion != 4 && db.ipVersion != 6 {
		return nil, fmt.Errorf("ip version %d: want 4 or 6: %w", db.ipVersion, ErrFormat)
	}

	treeSize := uint64(db.nodeCount) * uint64(db.recordSize) / 4
	if treeSize+dataSeparator > uint64(at) {
		return nil, fmt.Errorf("search tree of %d nodes overruns the file: %w", db.nodeCount,
			ErrFormat)
	}

	db.dataStart = int(treeSize) + dataSeparator

	if db.ipVersion == 6 {
		node := uint32(0)
		for i := 0; i < 96 && node < db.nodeCount; i++ {
			node = db.record(node, 0)
		}

		db.ipv4Start = node
	}

	return db, nil
}

// record returns the left (bit 0) or right (bit 1) record of node.
func (db *DB) record(node uint32, bit int) uint32 {
	d := db.data[uint64(node)*uint64(db.recordSize)/4:]

	switch db.recordSize {
	case 24:
		o := bit * 3

		return uint32(d[o])<<16 | uint32(d[o+1])<<8 | uint32(d[o+2])
	case 28:
		if bit == 0 {
			return uint32(d[3]&0xF0)<<20 | uint32(d[0])<<16 | uint32(d[1])<<8 | uint32(d[2])
		}

		return uint32(d[3]&0x0F)<<24 | uint32(d[4])<<16 | uint32(d[5])<<8 | uint32(d[6])
	default:
		o := bit * 4

		return uint32(d[o])<<24 | uint32(d[o+1])<<16 | uint32(d[o+2])<<8 | uint32(d[o+3])
	}
}

// find returns the data offset of the network holding addr, and whether
// there is one.
func (db *DB) find(addr netip.Addr) (int, bool) {
	addr = addr.Unmap()

	var (
		ip   []byte
		node uint32
	)

	switch {
	case addr.Is4() && db.ipVersion == 6:
		b := addr.As4()
		ip, node = b[:], db.ipv4Start
	case addr.Is4():
		b := addr.As4()
		ip = b[:]
	case addr.Is6() && db.ipVersion == 6:
		b := addr.As16()
		ip = b[:]
	default:
		return 0, false
	}

	for i := 0; i < len(ip)*8 && node < db.nodeCount; i++ {
		node = db.record(node, int(ip[i/8]>>(7-i%8))&1)
	}

	if node < db.nodeCount+dataSeparator {
		return 0, false // no network, or the tree ran out with the address
	}

	return int(node - db.nodeCount - dataSeparator), true
}

// Country returns the ISO 3166-1 alpha-2 code of the country of addr
// (country, else registered_country), and whether the database has one.
func (db *DB) Country(addr netip.Addr) (string, bool) {
	off, ok := db.find(addr)
	if !ok {
		return "", false
	}

	db.mu.Lock()
	code, cached := db.countries[off]
	db.mu.Unlock()

	if !cached {
		code = db.decodeCountry(off)

		db.mu.Lock()
		if len(db.countries) >= maxCached {
			clear(db.countries)
		}
		db.countries[off] = code
		db.mu.Unlock()
	}

	return code, code != ""
}

// decodeCountry reads the country code of the record at off, "" when it has
// none.
func (db *DB) decodeCountry(off int) string {
	d := decoder{data: db.data[db.dataStart:]}

	v, _, err := d.decode(off, 0)
	if err != nil {
		return ""
	}

	m, _ := v.(map[string]any)

	for _, key := range []string{"country", "registered_country"} {
		c, _ := m[key].(map[string]any)
		if code, ok := c["iso_code"].(string); ok && code != "" {
			return code
		}
	}

	return ""
}

func asUint(v any) uint64 {
	n, _ := v.(uint64)
	return n
}
