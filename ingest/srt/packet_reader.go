package srt

import (
	"errors"
	"io"
	"time"
)

// tsPacketSize is the size of an MPEG-TS packet (ISO/IEC 13818-1, 2.4.3.2).
const tsPacketSize = 188

// tsSyncByte starts every MPEG-TS packet.
const tsSyncByte = 0x47

// maxMessageSize bounds one SRT message read: an SRT live payload is at most
// 1456 bytes; 1500 leaves room for any MSS.
const maxMessageSize = 1500

// packetReader hands astits whole 188-byte packets read from a message
// source (one SRT message per Read), skipping bytes up to the next sync byte
// when the stream lost alignment.
type packetReader struct {
	r       io.Reader
	msg     []byte    // current message
	pos     int       // read position in msg
	skipped int       // bytes skipped to realign, for the caller's counters
	fatal   error     // the source's error other than io.EOF, which astits hides
	last    time.Time // when the last message arrived
}

func newPacketReader(r io.Reader) *packetReader {
	return &packetReader{r: r, msg: make([]byte, 0, maxMessageSize)}
}

// fill reads the next message when the current one is used up.
func (p *packetReader) fill() error {
	for p.pos >= len(p.msg) {
		n, err := p.r.Read(p.msg[:cap(p.msg)])
		p.msg = p.msg[:n]
		p.pos = 0

		if n > 0 {
			p.last = time.Now()
		}

		if n == 0 && err != nil {
			if !errors.Is(err, io.EOF) {
				p.fatal = err
			}

			return err
		}
	}

	return nil
}

// Read fills p, which must be tsPacketSize long, with the next packet.
func (p *packetReader) Read(b []byte) (int, error) {
	if len(b) != tsPacketSize {
		return 0, errors.New("mpeg-ts packets are read 188 bytes at a time")
	}

	n := 0
	for n < tsPacketSize {
		if err := p.fill(); err != nil {
			return 0, err
		}

		if n == 0 {
			// Realign: a packet starts with the sync byte.
			for p.pos < len(p.msg) && p.msg[p.pos] != tsSyncByte {
				p.pos++
				p.skipped++
			}

			if p.pos == len(p.msg) {
				continue
			}
		}

		c := copy(b[n:], p.msg[p.pos:])
		p.pos += c
		n += c
	}

	return n, nil
}
