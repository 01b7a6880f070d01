package playbench

import (
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"

	"github.com/yutopp/go-amf0"
	"github.com/yutopp/go-rtmp/handshake"
)

// Parameter sets of a 1280x720 libx264 stream, and an AudioSpecificConfig of
// AAC-LC at 44100 Hz, stereo.
var (
	sps720 = []byte{0x67, 0x64, 0x00, 0x1f, 0xac, 0x24, 0x84, 0x01, 0x40, 0x16, 0xec, 0x04,
		0x40, 0x00, 0x00, 0x03, 0x00, 0x40, 0x00, 0x00, 0x0c, 0x23, 0xc6, 0x0c, 0x92}
	pps720 = []byte{0x68, 0xee, 0x32, 0xc8, 0xb0}
	asc44k = []byte{0x12, 0x10}
)

// The stream the publisher sends: 25 fps with a keyframe every 2 s, at about
// 1.4 Mbit/s.
const (
	frameInterval = 40 * time.Millisecond
	keyInterval   = 50
	keySize       = 40000
	frameSize     = 5000
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

// frameMarker precedes the decimal index written into every picture, so that
// a reader finds it in an FLV tag or an MPEG-TS PES alike; neither holds
// zero bytes, which Annex B would take for a start code.
const frameMarker = "onair-frame:"

// frameIndex finds the index written by picture in b.
func frameIndex(b []byte) (int, bool) {
	i := bytes.Index(b, []byte(frameMarker))
	if i < 0 || len(b) < i+len(frameMarker)+8 {
		return 0, false
	}

	n, err := strconv.Atoi(string(b[i+len(frameMarker) : i+len(frameMarker)+8]))

	return n, err == nil
}

// picture returns the NAL unit of frame i: an IDR slice every keyInterval
// frames, a non-IDR slice otherwise, holding the frame's index.
func picture(i int) []byte {
	size, header := frameSize, byte(0x41)
	if i%keyInterval == 0 {
		size, header = keySize, 0x65
	}

	nalu := bytes.Repeat([]byte{0xab}, size)
	nalu[0] = header
	copy(nalu[1:], fmt.Sprintf("%s%08d", frameMarker, i))

	return nalu
}

// videoTag wraps a NAL unit in an FLV AVC tag (FLV spec E.4.3.1).
func videoTag(i int) []byte {
	nalu := picture(i)
	b := []byte{0x27, 1, 0, 0, 0}
	if i%keyInterval == 0 {
		b[0] = 0x17
	}

	b = binary.BigEndian.AppendUint32(b, uint32(len(nalu)))

	return append(b, nalu...)
}

// avcHeader is the FLV AVC sequence header of sps720 and pps720
// (ISO/IEC 14496-15 5.2.4.1).
func avcHeader() []byte {
	b := []byte{0x17, 0, 0, 0, 0, 1, sps720[1], sps720[2], sps720[3], 0xff, 0xe1}
	b = binary.BigEndian.AppendUint16(b, uint16(len(sps720)))
	b = append(b, sps720...)
	b = append(b, 1)
	b = binary.BigEndian.AppendUint16(b, uint16(len(pps720)))

	return append(b, pps720...)
}

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

// publisher sends frames at real-time pace to an RTMP server and to a TCP
// relay, and notes when each frame was written to each.
type publisher struct {
	rtmp   *chunkConn
	relay  net.Conn
	frames int

	sent      []time.Time // per frame: last byte written to the RTMP socket
	relaySent []time.Time // the same for the relay
}

// run publishes key and sends the frames, then closes both connections.
func (p *publisher) run(key string) error {
	// Whatever the server says is read and dropped, so that it never waits
	// on a full socket.
	drained := make(chan struct{})
	go func() {
		defer close(drained)

		_, _ = io.Copy(io.Discard, p.rtmp.nc)
	}()

	defer func() {
		p.relay.Close()
		p.rtmp.nc.Close()
		<-drained
	}()

	if err := p.begin(key); err != nil {
		return err
	}

	p.sent = make([]time.Time, p.frames)
	p.relaySent = make([]time.Time, p.frames)
	start := time.Now()

	for i := range p.frames {
		time.Sleep(time.Until(start.Add(time.Duration(i) * frameInterval)))

		if err := p.frame(i); err != nil {
			return fmt.Errorf("frame %d: %w", i, err)
		}
	}

	return p.end(drained)
}

// end deletes the stream and half-closes the connection, so that the
// server reads every frame before it sees the end, then waits for the
// server to close its side.
func (p *publisher) end(drained <-chan struct{}) error {
	c := p.rtmp
	if err := c.command(0, "deleteStream", 3.0, nil, 1.0); err != nil {
		return err
	}

	if err := c.nc.(interface{ CloseWrite() error }).CloseWrite(); err != nil {
		return err
	}

	select {
	case <-drained:
	case <-time.After(drainLimit):
	}

	return nil
}

// begin publishes key and sends the metadata and the sequence headers.
func (p *publisher) begin(key string) error {
	c := p.rtmp
	if err := c.send(2, msgSetChunkSize, 0, 0, binary.BigEndian.AppendUint32(nil,
		publishChunkSize)); err != nil {
		return err
	}

	c.chunkSize = publishChunkSize

	if err := c.start(); err != nil {
		return err
	}

	if err := c.command(1, "publish", 0.0, nil, key, "live"); err != nil {
		return err
	}

	var meta bytes.Buffer
	enc := amf0.NewEncoder(&meta)
	_ = enc.Encode("@setDataFrame")
	_ = enc.Encode("onMetaData")
	_ = enc.Encode(amf0.ECMAArray{"videocodecid": 7.0, "audiocodecid": 10.0})

	if err := c.send(4, msgData, 1, 0, meta.Bytes()); err != nil {
		return err
	}

	if err := c.send(6, msgVideo, 1, 0, avcHeader()); err != nil {
		return err
	}

	return c.send(5, msgAudio, 1, 0, append([]byte{0xaf, 0}, asc44k...))
}

// frame sends picture i and one AAC frame of the same time.
func (p *publisher) frame(i int) error {
	ts := uint32(i) * uint32(frameInterval/time.Millisecond)
	tag := videoTag(i)

	if err := p.rtmp.send(6, msgVideo, 1, ts, tag); err != nil {
		return err
	}

	p.sent[i] = time.Now()

	if err := writeRelayed(p.relay, tag); err != nil {
		return fmt.Errorf("relay: %w", err)
	}

	p.relaySent[i] = time.Now()

	return p.rtmp.send(5, msgAudio, 1, ts, []byte{0xaf, 1, 0x21, 0x10, 0x04, 0x60})
}

// writeRelayed writes one length-prefixed frame to the relay.
func writeRelayed(w io.Writer, tag []byte) error {
	_, err := w.Write(append(binary.BigEndian.AppendUint32(nil, uint32(len(tag))), tag...))

	return err
}

// tcpRelay is the baseline: two loopback TCP connections with a copy in
// between, the least a relaying server could add.
type tcpRelay struct {
	in, out net.Conn // the publisher's end and the reader's end
	done    chan struct{}
}

// newTCPRelay connects the two pairs and starts copying.
func newTCPRelay() (*tcpRelay, error) {
	in, middleIn, err := tcpPair()
	if err != nil {
		return nil, err
	}

	middleOut, out, err := tcpPair()
	if err != nil {
		in.Close()
		middleIn.Close()

		return nil, err
	}

	r := &tcpRelay{in: in, out: out, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		defer middleOut.Close()
		defer middleIn.Close()

		_, _ = io.Copy(middleOut, middleIn)
	}()

	return r, nil
}

// close closes both ends and waits for the copy.
func (r *tcpRelay) close() {
	r.in.Close()
	r.out.Close()
	<-r.done
}

// tcpPair returns the two ends of a loopback TCP connection.
func tcpPair() (net.Conn, net.Conn, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	defer ln.Close()

	a, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		return nil, nil, err
	}

	b, err := ln.Accept()
	if err != nil {
		a.Close()

		return nil, nil, err
	}

	return a, b, nil
}
