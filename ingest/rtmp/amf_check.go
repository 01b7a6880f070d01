package rtmp

import (
	"encoding/binary"
	"fmt"
)

// AMF0 markers (AMF0 specification, 2.1).
const (
	amfNumber      = 0x00
	amfBoolean     = 0x01
	amfString      = 0x02
	amfObject      = 0x03
	amfNull        = 0x05
	amfUndefined   = 0x06
	amfReference   = 0x07
	amfECMAArray   = 0x08
	amfObjectEnd   = 0x09
	amfStrictArray = 0x0a
	amfDate        = 0x0b
	amfLongString  = 0x0c
	amfXMLDocument = 0x0f
	amfTypedObject = 0x10
)

// maxAMFDepth bounds the nesting of objects and arrays.
const maxAMFDepth = 16

// checkAMF0 walks a sequence of AMF0 values and fails unless every length
// and count they declare fits in buf. go-amf0 allocates what a length field
// declares before it reads, so that a 20-byte message claiming a string or
// an array of 2^31 entries would exhaust the server's memory; a message that
// passes this check cannot make it allocate more than a few times its size.
func checkAMF0(buf []byte) error {
	for pos := 0; pos < len(buf); {
		next, err := skipAMF0(buf, pos, 0)
		if err != nil {
			return err
		}

		pos = next
	}

	return nil
}

// skipAMF0 returns the position after the value at pos.
func skipAMF0(buf []byte, pos, depth int) (int, error) {
	if depth > maxAMFDepth {
		return 0, fmt.Errorf("amf0 values nest deeper than %d", maxAMFDepth)
	}

	if pos >= len(buf) {
		return 0, fmt.Errorf("amf0 value cut off at byte %d", pos)
	}

	marker := buf[pos]
	pos++

	switch marker {
	case amfNumber:
		return need(buf, pos, 8)

	case amfBoolean:
		return need(buf, pos, 1)

	case amfString, amfTypedObject:
		next, err := skipLength(buf, pos, 2)
		if err != nil || marker == amfString {
			return next, err
		}

		return skipProperties(buf, next, depth)

	case amfLongString, amfXMLDocument:
		return skipLength(buf, pos, 4)

	case amfNull, amfUndefined:
		return pos, nil

	case amfReference:
		return need(buf, pos, 2)

	case amfDate:
		return need(buf, pos, 10)

	case amfObject:
		return skipProperties(buf, pos, depth)

	case amfECMAArray:
		next, err := need(buf, pos, 4)
		if err != nil {
			return 0, err
		}

		return skipProperties(buf, next, depth)

	case amfStrictArray:
		return skipStrictArray(buf, pos, depth)
	}

	return 0, fmt.Errorf("amf0 marker 0x%02x at byte %d is not supported", marker, pos-1)
}

// skipProperties skips name/value pairs up to and including the object end.
func skipProperties(buf []byte, pos, depth int) (int, error) {
	for {
		if pos+2 > len(buf) {
			return 0, fmt.Errorf("amf0 property name cut off at byte %d", pos)
		}

		n := int(binary.BigEndian.Uint16(buf[pos:]))
		if n == 0 && pos+2 < len(buf) && buf[pos+2] == amfObjectEnd {
			return pos + 3, nil
		}

		next, err := skipLength(buf, pos, 2)
		if err != nil {
			return 0, err
		}

		if pos, err = skipAMF0(buf, next, depth+1); err != nil {
			return 0, err
		}
	}
}

// skipStrictArray skips a counted array, whose count may not exceed the
// bytes left (each value takes at least one).
func skipStrictArray(buf []byte, pos, depth int) (int, error) {
	if pos+4 > len(buf) {
		return 0, fmt.Errorf("amf0 array count cut off at byte %d", pos)
	}

	count := int(binary.BigEndian.Uint32(buf[pos:]))
	pos += 4

	if count > len(buf)-pos {
		return 0, fmt.Errorf("amf0 array of %d values exceeds the %d bytes left", count, len(buf)-pos)
	}

	for i := 0; i < count; i++ {
		next, err := skipAMF0(buf, pos, depth+1)
		if err != nil {
			return 0, err
		}

		pos = next
	}

	return pos, nil
}

// skipLength skips a length field of size bytes and the bytes it counts.
func skipLength(buf []byte, pos, size int) (int, error) {
	if pos+size > len(buf) {
		return 0, fmt.Errorf("amf0 length cut off at byte %d", pos)
	}

	n := 0
	for _, b := range buf[pos : pos+size] {
		n = n<<8 | int(b)
	}

	return need(buf, pos+size, n)
}

// need returns pos+n when n bytes are left at pos.
func need(buf []byte, pos, n int) (int, error) {
	if n < 0 || n > len(buf)-pos {
		return 0, fmt.Errorf("amf0 value of %d bytes exceeds the %d left at byte %d",
			n, len(buf)-pos, pos)
	}

	return pos + n, nil
}
