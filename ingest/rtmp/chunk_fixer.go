package rtmp

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
)

// RTMP chunk layer values (Adobe RTMP specification 1.0, 5.3 and 5.4).
const (
	handshakeClientBytes = 1 + 1536 + 1536 // C0, C1, C2 (5.2)
	extendedTimestamp    = 0xffffff        // 5.3.1.3
	typeSetChunkSize     = 1               // 5.4.1
	typeDataAMF3         = 15              // 7.1.2
	typeCommandAMF3      = 17              // 7.1.1
	typeDataAMF0         = 18              // 7.1.2
	typeCommandAMF0      = 20              // 7.1.1
	maxChunkSize         = 0xffffff        // 5.4.1, as go-rtmp clamps it
	defaultChunkSize     = 128             // 5.4.1
)

// maxAMFMessage bounds command and data messages: they carry connect,
// publish and onMetaData, never media.
const maxAMFMessage = 1 << 20

// chunkFixer sits between a publisher and go-rtmp's chunk reader and removes
// the extended timestamp that type 3 chunks carry after a type 0, 1 or 2
// chunk with an extended timestamp (5.3.1.3). FFmpeg and librtmp send it;
// go-rtmp v0.0.7 does not expect it and loses the chunk stream, so that any
// timestamp past 0xffffff ms (4.6 hours, or -output_ts_offset) would cut the
// connection. Every other byte passes through unchanged.
//
// It also holds back the last chunk of each command and data message until
// checkAMF0 has vetted the whole message, because go-amf0 trusts the
// lengths inside it.
type chunkFixer struct {
	r *bufio.Reader

	handshake int    // client handshake bytes still to pass
	pending   []byte // chunk header bytes to hand out
	payload   int    // chunk payload bytes still to pass
	current   *chunkState
	chunkSize int
	streams   map[uint32]*chunkState
	hdr       []byte // scratch for headers
}

// chunkState is what the fixer remembers of one chunk stream.
type chunkState struct {
	extended  bool // the last type 0/1/2 header had an extended timestamp
	length    int  // message length
	typeID    byte
	remaining int    // bytes of the current message still to come
	body      []byte // SetChunkSize or AMF payload gathered so far
}

// isAMF reports whether messages of type id carry AMF values.
func isAMF(id byte) bool {
	return id == typeDataAMF0 || id == typeCommandAMF0 || id == typeDataAMF3 ||
		id == typeCommandAMF3
}

// newChunkFixer returns a fixer reading the client side of a connection.
func newChunkFixer(r io.Reader) *chunkFixer {
	return &chunkFixer{
		r:         bufio.NewReaderSize(r, 16<<10),
		handshake: handshakeClientBytes,
		chunkSize: defaultChunkSize,
		streams:   map[uint32]*chunkState{},
		hdr:       make([]byte, 0, 18),
	}
}

// Read hands out the chunk stream without the extra timestamps.
func (f *chunkFixer) Read(p []byte) (int, error) {
	for {
		switch {
		case len(p) == 0:
			return 0, nil

		case f.handshake > 0:
			n, err := f.r.Read(p[:min(len(p), f.handshake)])
			f.handshake -= n

			return n, err

		case len(f.pending) > 0:
			n := copy(p, f.pending)
			f.pending = f.pending[n:]

			return n, nil

		case f.payload > 0:
			n, err := f.r.Read(p[:min(len(p), f.payload)])
			f.payload -= n
			f.gather(p[:n])

			return n, err
		}

		if err := f.nextHeader(); err != nil {
			return 0, err
		}
	}
}

// gather keeps the payload of SetChunkSize and AMF messages, and applies a
// SetChunkSize once complete, as go-rtmp will.
func (f *chunkFixer) gather(b []byte) {
	st := f.current
	if st == nil {
		return
	}

	switch {
	case isAMF(st.typeID):
		st.body = append(st.body, b...)

	case st.typeID == typeSetChunkSize:
		if len(st.body) < 4 {
			st.body = append(st.body, b[:min(len(b), 4-len(st.body))]...)
		}

		if f.payload == 0 && st.remaining == 0 && len(st.body) == 4 {
			f.chunkSize = int(min(binary.BigEndian.Uint32(st.body), maxChunkSize))
		}
	}
}

// vetLastChunk reads the final chunk of an AMF message and checks the whole
// message before it is handed to go-rtmp.
func (f *chunkFixer) vetLastChunk(st *chunkState) error {
	last := make([]byte, f.payload)
	if _, err := io.ReadFull(f.r, last); err != nil {
		return err
	}

	body := append(st.body, last...)
	if st.typeID == typeDataAMF3 || st.typeID == typeCommandAMF3 {
		body = body[min(1, len(body)):] // a format byte precedes AMF0 values
	}

	if err := checkAMF0(body); err != nil {
		return fmt.Errorf("rtmp message type %d refused: %w", st.typeID, err)
	}

	f.pending = append(f.pending, last...)
	f.payload = 0
	st.body = st.body[:0]

	return nil
}

// nextHeader reads one chunk header and queues it, fixed, for the reader.
func (f *chunkFixer) nextHeader() error {
	h := f.hdr[:0]

	h, err := f.take(h, 1)
	if err != nil {
		return err
	}

	format := h[0] >> 6
	csid := uint32(h[0] & 0x3f)

	switch csid {
	case 0:
		if h, err = f.take(h, 1); err != nil {
			return err
		}

		csid = 64 + uint32(h[1])

	case 1:
		if h, err = f.take(h, 2); err != nil {
			return err
		}

		csid = 64 + uint32(h[1]) + uint32(h[2])<<8
	}

	st := f.streams[csid]
	if st == nil {
		st = &chunkState{}
		f.streams[csid] = st
	}

	if h, err = f.messageHeader(h, format, st); err != nil {
		return err
	}

	if st.remaining == 0 {
		st.remaining = st.length
		st.body = st.body[:0]

		if isAMF(st.typeID) && st.length > maxAMFMessage {
			return fmt.Errorf("rtmp message type %d of %d bytes exceeds %d",
				st.typeID, st.length, maxAMFMessage)
		}
	}

	f.current = st
	f.payload = min(st.remaining, f.chunkSize)
	st.remaining -= f.payload
	f.pending = h
	f.hdr = h[:0]

	if isAMF(st.typeID) && st.remaining == 0 {
		return f.vetLastChunk(st)
	}

	if f.payload == 0 {
		f.gather(nil)
	}

	return nil
}

// messageHeader reads the message header of a chunk of the given format.
func (f *chunkFixer) messageHeader(h []byte, format byte, st *chunkState) ([]byte, error) {
	if format == 3 {
		if !st.extended {
			return h, nil
		}

		// Read and drop the repeated extended timestamp.
		var ext [4]byte
		_, err := io.ReadFull(f.r, ext[:])

		return h, err
	}

	size := [3]int{11, 7, 3}[format]
	start := len(h)

	h, err := f.take(h, size)
	if err != nil {
		return nil, err
	}

	m := h[start:]
	ts := int(m[0])<<16 | int(m[1])<<8 | int(m[2])
	st.extended = ts == extendedTimestamp

	if format <= 1 {
		st.length = int(m[3])<<16 | int(m[4])<<8 | int(m[5])
		st.typeID = m[6]
	}

	if st.extended {
		return f.take(h, 4)
	}

	return h, nil
}

// take appends n bytes read from the client to h.
func (f *chunkFixer) take(h []byte, n int) ([]byte, error) {
	start := len(h)
	h = append(h, make([]byte, n)...)

	if _, err := io.ReadFull(f.r, h[start:]); err != nil {
		return nil, err
	}

	return h, nil
}
