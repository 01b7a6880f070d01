package playbench

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/yutopp/go-amf0"
)

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
