package playbench

import (
	"bufio"
	"context"
	"encoding/binary"
	"io"
	"net"
	"time"
)

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

// readRelay reads the relay's length-prefixed frames until it closes.
func readRelay(r io.Reader, got arrivals) error {
	br := bufio.NewReader(r)
	var size [4]byte

	for {
		if _, err := io.ReadFull(br, size[:]); err != nil {
			return endOfPlayback(context.Background(), err)
		}

		b := make([]byte, binary.BigEndian.Uint32(size[:]))
		if _, err := io.ReadFull(br, b); err != nil {
			return err
		}

		got.note(b, time.Now())
	}
}
