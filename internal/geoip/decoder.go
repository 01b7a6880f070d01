package geoip

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Data types of the MaxMind DB data section.
const (
	typeExtended = 0
	typePointer  = 1
	typeString   = 2
	typeDouble   = 3
	typeBytes    = 4
	typeUint16   = 5
	typeUint32   = 6
	typeMap      = 7
	typeInt32    = 8
	typeUint64   = 9
	typeUint128  = 10
	typeArray    = 11
	typeBool     = 14
	typeFloat    = 15
)

// maxDepth bounds nested maps and arrays, so that a crafted file cannot
// exhaust the stack.
const maxDepth = 32

// maxValues bounds the values one decode reads, pointers followed included,
// so that pointers shared many times over cannot make it run for ages.
const maxValues = 100_000

// decoder reads values of a data section.
type decoder struct {
	data  []byte
	count int // values read so far
}

// decode reads the value at off and returns it with the offset after it.
// Numbers decode as uint64 (int32 as int64, floats as float64), uint128 as
// its bytes.
func (d *decoder) decode(off, depth int) (any, int, error) {
	if depth > maxDepth {
		return nil, 0, fmt.Errorf("data nested over %d levels: %w", maxDepth, ErrFormat)
	}

	if d.count++; d.count > maxValues {
		return nil, 0, fmt.Errorf("data holds over %d values: %w", maxValues, ErrFormat)
	}

	typ, size, off, err := d.control(off)
	if err != nil {
		return nil, 0, err
	}

	if typ == typePointer {
		ptr, next, err := d.pointer(size, off)
		if err != nil {
			return nil, 0, err
		}

		v, _, err := d.decode(ptr, depth+1)

		return v, next, err
	}

	off, size, err = d.extendSize(typ, size, off)
	if err != nil {
		return nil, 0, err
	}

	switch typ {
	case typeMap:
		return d.decodeMap(off, size, depth)
	case typeArray:
		return d.decodeArray(off, size, depth)
	case typeBool:
		return size != 0, off, nil
	}

	b, err := d.bytes(off, size)
	if err != nil {
		return nil, 0, err
	}

	v, err := scalar(typ, b)

	return v, off + size, err
}

// control reads a control byte (and an extended type byte).
func (d *decoder) control(off int) (int, int, int, error) {
	if off < 0 || off >= len(d.data) {
		return 0, 0, 0, fmt.Errorf("data offset %d outside the section: %w", off, ErrFormat)
	}

	b := d.data[off]
	typ, size := int(b>>5), int(b&0x1f)
	off++

	if typ == typeExtended {
		if off >= len(d.data) {
			return 0, 0, 0, fmt.Errorf("truncated extended type: %w", ErrFormat)
		}

		typ = 7 + int(d.data[off])
		off++
	}

	return typ, size, off, nil
}

// extendSize reads the size bytes after a control byte (sizes 29 to 31).
func (d *decoder) extendSize(typ, size, off int) (int, int, error) {
	if typ == typeBool || size < 29 {
		return off, size, nil
	}

	n := size - 28

	b, err := d.bytes(off, n)
	if err != nil {
		return 0, 0, err
	}

	var v int
	for _, c := range b {
		v = v<<8 | int(c)
	}

	switch n {
	case 1:
		size = 29 + v
	case 2:
		size = 285 + v
	default:
		size = 65821 + v
	}

	return off + n, size, nil
}

// pointer reads a pointer's target, relative to the section's start.
func (d *decoder) pointer(size, off int) (int, int, error) {
	n := (size>>3)&3 + 1

	b, err := d.bytes(off, n)
	if err != nil {
		return 0, 0, err
	}

	v := 0
	if n < 4 {
		v = size & 7
	}

	for _, c := range b {
		v = v<<8 | int(c)
	}

	// The spec's offsets of the two- and three-byte forms.
	switch n {
	case 2:
		v += 2048
	case 3:
		v += 526336
	}

	return v, off + n, nil
}

func (d *decoder) decodeMap(off, n, depth int) (any, int, error) {
	m := make(map[string]any, min(n, 64))

	for range n {
		k, next, err := d.decode(off, depth+1)
		if err != nil {
			return nil, 0, err
		}

		key, ok := k.(string)
		if !ok {
			return nil, 0, fmt.Errorf("map key is not a string: %w", ErrFormat)
		}

		v, next, err := d.decode(next, depth+1)
		if err != nil {
			return nil, 0, err
		}

		m[key], off = v, next
	}

	return m, off, nil
}

func (d *decoder) decodeArray(off, n, depth int) (any, int, error) {
	a := make([]any, 0, min(n, 64))

	for range n {
		v, next, err := d.decode(off, depth+1)
		if err != nil {
			return nil, 0, err
		}

		a, off = append(a, v), next
	}

	return a, off, nil
}

// bytes returns n bytes at off.
func (d *decoder) bytes(off, n int) ([]byte, error) {
	if off < 0 || n < 0 || off+n > len(d.data) {
		return nil, fmt.Errorf("value of %d bytes at %d overruns the section: %w", n, off,
			ErrFormat)
	}

	return d.data[off : off+n], nil
}

// scalar decodes a value that is not a container.
func scalar(typ int, b []byte) (any, error) {
	switch typ {
	case typeString:
		return string(b), nil
	case typeBytes, typeUint128:
		return b, nil
	case typeDouble:
		if len(b) != 8 {
			return nil, fmt.Errorf("double of %d bytes: %w", len(b), ErrFormat)
		}

		return math.Float64frombits(binary.BigEndian.Uint64(b)), nil
	case typeFloat:
		if len(b) != 4 {
			return nil, fmt.Errorf("float of %d bytes: %w", len(b), ErrFormat)
		}

		return float64(math.Float32frombits(binary.BigEndian.Uint32(b))), nil
	case typeUint16, typeUint32, typeUint64:
		if len(b) > 8 {
			return nil, fmt.Errorf("unsigned integer of %d bytes: %w", len(b), ErrFormat)
		}

		var v uint64
		for _, c := range b {
			v = v<<8 | uint64(c)
		}

		return v, nil
	case typeInt32:
		if len(b) > 4 {
			return nil, fmt.Errorf("int32 of %d bytes: %w", len(b), ErrFormat)
		}

		var v uint32
		for _, c := range b {
			v = v<<8 | uint32(c)
		}

		return int64(int32(v)), nil
	}

	return nil, fmt.Errorf("data type %d: %w", typ, ErrFormat)
}
