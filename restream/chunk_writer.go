package restream

import "encoding/binary"

// Chunk layer constants (RTMP spec 5.3.1).
const (
	// defaultChunkSize is the chunk size of both peers until a Set Chunk
	// Size message changes it (RTMP spec 5.4.1).
	defaultChunkSize = 128

	// maxHeaderTimestamp is the largest timestamp a message header holds;
	// larger ones go into the extended timestamp field.
	maxHeaderTimestamp = 0xffffff
)

// writeMessage sends one message as chunks of p.chunkSize, each message
// with a full (type 0) header and its continuations with type 3 headers,
// then flushes: one write to the socket per message.
func (p *rtmpPusher) writeMessage(csid int, typ byte, sid, ts uint32, payload []byte) error {
	hts := min(ts, maxHeaderTimestamp)
	n := len(payload)

	var h [16]byte

	h[0] = byte(csid) // fmt 0
	h[1], h[2], h[3] = byte(hts>>16), byte(hts>>8), byte(hts)
	h[4], h[5], h[6] = byte(n>>16), byte(n>>8), byte(n)
	h[7] = typ
	binary.LittleEndian.PutUint32(h[8:12], sid)
	header := h[:12]

	if hts == maxHeaderTimestamp {
		binary.BigEndian.PutUint32(h[12:16], ts)
		header = h[:16]
	}

	if _, err := p.bw.Write(header); err != nil {
		return err
	}

	size := p.chunkSize
	if size == 0 {
		size = defaultChunkSize
	}

	for {
		c := min(len(payload), size)
		if _, err := p.bw.Write(payload[:c]); err != nil {
			return err
		}

		payload = payload[c:]
		if len(payload) == 0 {
			break
		}

		cont := []byte{0xc0 | byte(csid)}
		if hts == maxHeaderTimestamp {
			cont = binary.BigEndian.AppendUint32(cont, ts)
		}

		if _, err := p.bw.Write(cont); err != nil {
			return err
		}
	}

	return p.bw.Flush()
}
