package playbench

import (
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"net"

	"github.com/yutopp/go-amf0"
	"github.com/yutopp/go-rtmp/handshake"
)

// RTMP message type IDs (RTMP spec 7.1) and the chunk size the publisher
// announces, large enough for every frame to go in one chunk.
const (
	msgSetChunkSize = 1
	msgAudio        = 8
	msgVideo        = 9
	msgData         = 18
	msgCommand      = 20

	publishChunkSize = 65536
)

// chunkConn writes RTMP messages as chunks of its own, so that the
// publisher knows when the last byte of a frame has left.
type chunkConn struct {
	nc        net.Conn
	chunkSize int
}

// dialRTMP connects to addr, inside TLS when tc is set, and completes the
// RTMP handshake.
func dialRTMP(addr string, tc *tls.Config) (*chunkConn, error) {
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}

	if tc != nil {
		nc = tls.Client(nc, tc)
	}

	if err := handshake.HandshakeWithServer(nc, nc, &handshake.Config{}); err != nil {
		nc.Close()

		return nil, fmt.Errorf("rtmp handshake: %w", err)
	}

	return &chunkConn{nc: nc, chunkSize: 128}, nil
}

// send writes one message: a type 0 chunk and type 3 chunks (RTMP spec
// 5.3.1). Timestamps stay below the extended timestamp range.
func (c *chunkConn) send(csid, typeID byte, sid, ts uint32, payload []byte) error {
	if ts >= 0xffffff {
		return errors.New("timestamp needs an extended timestamp")
	}

	var b bytes.Buffer
	n := len(payload)
	b.Write([]byte{csid, byte(ts >> 16), byte(ts >> 8), byte(ts)})
	b.Write([]byte{byte(n >> 16), byte(n >> 8), byte(n), typeID})
	_ = binary.Write(&b, binary.LittleEndian, sid)

	for i := 0; i < n; i += c.chunkSize {
		if i > 0 {
			b.WriteByte(0xc0 | csid)
		}

		b.Write(payload[i:min(i+c.chunkSize, n)])
	}

	_, err := c.nc.Write(b.Bytes())

	return err
}

// command sends an AMF0 command on message stream sid.
func (c *chunkConn) command(sid uint32, values ...any) error {
	var b bytes.Buffer
	enc := amf0.NewEncoder(&b)
	for _, v := range values {
		if err := enc.Encode(v); err != nil {
			return err
		}
	}

	return c.send(3, msgCommand, sid, 0, b.Bytes())
}

// start connects to app live and asks for stream 1, which onair's server
// hands out first; play or publish follows on it.
func (c *chunkConn) start() error {
	err := c.command(0, "connect", 1.0, map[string]any{
		"app": "live", "type": "nonprivate", "tcUrl": "rtmp://127.0.0.1/live",
	})
	if err != nil {
		return err
	}

	return c.command(0, "createStream", 2.0, nil)
}
