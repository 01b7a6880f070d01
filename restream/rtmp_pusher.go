package restream

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	gortmp "github.com/yutopp/go-rtmp"
	"github.com/yutopp/go-rtmp/handshake"
	"github.com/yutopp/go-rtmp/message"

	"github.com/onair/onair/ingest/rtmp"
	"github.com/onair/onair/ingest/stream"
	"github.com/onair/onair/restream/destination"
)

// Limits of an RTMP push.
const (
	// setupTimeout bounds the TCP (and TLS) connection, the RTMP handshake
	// and the connect, createStream and publish commands.
	setupTimeout = 10 * time.Second

	// publishWait is how long a push waits for the destination's onStatus
	// answer to publish before it sends media anyway: some servers send none.
	publishWait = 2 * time.Second

	// writeTimeout closes a connection whose destination takes nothing for
	// that long.
	writeTimeout = 5 * time.Second

	// deadlineEvery is how often the write deadline is pushed forward: not
	// on every message, which would cost a timer update each.
	deadlineEvery = time.Second

	// pushChunkSize is the chunk size announced to the destination: most
	// messages take one chunk, one write. 64 KiB is the most that common
	// servers (SRS) accept.
	pushChunkSize = 64 << 10
)

// Chunk streams and message types of what a push sends (RTMP spec 5.3.1.1:
// chunk stream 2 carries protocol control messages; 5.4 and 7.1 give the
// type IDs).
const (
	controlChunkStream = 2
	commandChunkStream = 3
	videoChunkStream   = 6
	audioChunkStream   = 7

	typeSetChunkSize = 1
	typeAudio        = 8
	typeVideo        = 9
	typeCommandAMF0  = 20
)

// Transaction IDs of the commands a push sends (RTMP spec 7.2.1.1: connect
// is always 1).
const (
	txConnect      = 1
	txCreateStream = 2
)

// rtmpPusher publishes to an RTMP or RTMPS destination. It writes its own
// chunks, with one flush per message and a write deadline, and reads the
// destination's messages through go-rtmp's chunk reader.
type rtmpPusher struct {
	conn net.Conn
	bw   *bufio.Writer
	mux  *rtmp.FLVMuxer
	sid  uint32 // the message stream that publishes

	replies chan reply // commands answered by the destination, during setup
	stop    func() bool

	deadline  time.Time // the write deadline last set
	chunkSize int       // of what this side sends; 0 until set

	mu      sync.Mutex
	readErr error
	closed  bool
	done    chan struct{} // closed when the read loop returns
}

// reply is one command the destination sent: its name, transaction and
// AMF0 values after the transaction ID.
type reply struct {
	name   string
	tx     int64
	values []any
}

// dialRTMP connects, publishes d.Name in d.App and sends the sequence
// headers.
func dialRTMP(ctx context.Context, d *destination.Destination,
	tracks []*stream.Track) (pusher, error) {
	mux := rtmp.NewFLVMuxer(tracks)
	headers := mux.Headers()

	if len(headers) == 0 {
		return nil, errNoTracks
	}

	setup, cancel := context.WithTimeoutCause(ctx, setupTimeout, errSetupTimeout)
	defer cancel()

	conn, err := dialTCP(setup, d)
	if err != nil {
		return nil, err
	}

	p := &rtmpPusher{conn: conn, bw: bufio.NewWriterSize(conn, 64<<10), mux: mux,
		replies: make(chan reply, 16), done: make(chan struct{})}

	// The end of the setup (its timeout, or a cancelled output) wakes a
	// handshake or a command waiting on a silent destination.
	wake := context.AfterFunc(setup, func() { conn.SetDeadline(time.Unix(1, 0)) })

	err = p.open(setup, d)
	if !wake() || setup.Err() != nil {
		err = cmpErr(context.Cause(setup), err)
	}

	if err != nil {
		p.close()

		return nil, err
	}

	p.stop = context.AfterFunc(ctx, p.close)

	for _, tag := range headers {
		if err := p.send(tag); err != nil {
			p.close()

			return nil, err
		}
	}

	return p, nil
}

// dialTCP opens the TCP connection, inside TLS for rtmps.
func dialTCP(ctx context.Context, d *destination.Destination) (net.Conn, error) {
	nd := &net.Dialer{}

	if d.Scheme != "rtmps" {
		c, err := nd.DialContext(ctx, "tcp", d.Address())
		if err != nil {
			return nil, fmt.Errorf("connect: %w", cmpErr(context.Cause(ctx), err))
		}

		return c, nil
	}

	td := &tls.Dialer{NetDialer: nd, Config: &tls.Config{ServerName: d.Host,
		InsecureSkipVerify: d.TLSSkipVerify, MinVersion: tls.VersionTLS12}}

	c, err := td.DialContext(ctx, "tcp", d.Address())
	if err != nil {
		return nil, fmt.Errorf("tls connect: %w", cmpErr(context.Cause(ctx), err))
	}

	return c, nil
}

// cmpErr prefers the context's cause over the error it provoked.
func cmpErr(cause, err error) error {
	if cause != nil {
		return cause
	}

	return err
}

// open runs the handshake and the commands up to publish (RTMP spec 5.2
// and 7.2).
func (p *rtmpPusher) open(ctx context.Context, d *destination.Destination) error {
	if err := handshake.HandshakeWithServer(p.conn, p.conn, &handshake.Config{}); err != nil {
		return fmt.Errorf("rtmp handshake: %w", shortErr(err))
	}

	go p.readLoop()

	size := binary.BigEndian.AppendUint32(nil, pushChunkSize)
	if err := p.writeMessage(controlChunkStream, typeSetChunkSize, 0, 0, size); err != nil {
		return fmt.Errorf("rtmp set chunk size: %w", shortErr(err))
	}

	p.chunkSize = pushChunkSize

	connect := map[string]any{"app": d.App, "type": "nonprivate",
		"flashVer": "FMLE/3.0 (compatible; onair)", "tcUrl": d.TCURL}
	if _, err := p.call(ctx, "connect", txConnect, 0, connect); err != nil {
		return fmt.Errorf("rtmp connect to the application: %w", err)
	}

	r, err := p.call(ctx, "createStream", txCreateStream, 0, nil)
	if err != nil {
		return fmt.Errorf("rtmp createStream: %w", err)
	}

	sid, ok := streamID(r.values)
	if !ok {
		return errors.New("rtmp createStream: the answer has no stream id")
	}

	p.sid = sid

	return p.publish(ctx, d.Name)
}

// streamID reads createStream's result: null, then the stream id.
func streamID(values []any) (uint32, bool) {
	for _, v := range values {
		if f, ok := v.(float64); ok && f >= 1 && f < 1<<31 {
			return uint32(f), true
		}
	}

	return 0, false
}

// call sends a command and waits for its _result; an _error is a refusal.
func (p *rtmpPusher) call(ctx context.Context, name string, tx int64, sid uint32,
	arg any) (reply, error) {
	if err := p.command(sid, name, tx, arg); err != nil {
		return reply{}, shortErr(err)
	}

	for {
		r, err := p.nextReply(ctx)
		if err != nil {
			return reply{}, err
		}

		if r.tx != tx {
			continue
		}

		if r.name == "_error" {
			return reply{}, fmt.Errorf("refused by the destination%s", describeStatus(r.values))
		}

		if r.name == "_result" {
			return r, nil
		}
	}
}

// publish sends publish and waits a moment for its onStatus: an error level
// is a refusal, NetStream.Publish.Start or silence lets media flow.
func (p *rtmpPusher) publish(ctx context.Context, name string) error {
	if err := p.command(p.sid, "publish", 0, nil, name, "live"); err != nil {
		return fmt.Errorf("rtmp publish: %w", shortErr(err))
	}

	wait, cancel := context.WithTimeout(ctx, publishWait)
	defer cancel()

	for {
		r, err := p.nextReply(wait)
		if wait.Err() != nil && ctx.Err() == nil {
			return nil
		}

		if err != nil {
			return fmt.Errorf("rtmp publish: %w", err)
		}

		if r.name != "onStatus" {
			continue
		}

		level, code := statusOf(r.values)
		if level == "error" {
			return fmt.Errorf("rtmp publish refused by the destination: %s", code)
		}

		if code == "NetStream.Publish.Start" {
			return nil
		}
	}
}

// nextReply returns the next command the destination sent.
func (p *rtmpPusher) nextReply(ctx context.Context) (reply, error) {
	select {
	case r := <-p.replies:
		return r, nil
	case <-p.done:
		return reply{}, p.lost()
	case <-ctx.Done():
		return reply{}, context.Cause(ctx)
	}
}

// statusOf reads the level and code of an onStatus info object.
func statusOf(values []any) (level, code string) {
	for _, v := range values {
		if m, ok := v.(map[string]any); ok {
			level, _ = m["level"].(string)
			code, _ = m["code"].(string)
		}
	}

	if len(code) > 64 {
		code = code[:64]
	}

	return level, code
}

// describeStatus names the code of a refusal, never its description, which
// may quote the stream key.
func describeStatus(values []any) string {
	if _, code := statusOf(values); code != "" {
		return ": " + code
	}

	return ""
}

// readLoop reads the destination's messages until the connection fails:
// commands go to replies during setup, the rest is let go. It keeps the
// destination's chunk size current.
func (p *rtmpPusher) readLoop() {
	cs := gortmp.NewChunkStreamer(bufio.NewReader(p.conn), io.Discard, nil)
	defer cs.Close()
	defer close(p.done)

	for {
		var cm gortmp.ChunkMessage

		_, _, err := cs.Read(&cm)
		if err != nil {
			p.setLost(err)

			return
		}

		switch m := cm.Message.(type) {
		case *message.SetChunkSize:
			if err := cs.PeerState().SetChunkSize(m.ChunkSize); err != nil {
				p.setLost(err)

				return
			}

		case *message.CommandMessage:
			r := reply{name: m.CommandName, tx: m.TransactionID, values: decodeAMF(m)}

			select {
			case p.replies <- r:
			default: // nobody waits for replies once media flows
			}
		}
	}
}

// decodeAMF decodes the values of a command after its transaction ID.
func decodeAMF(m *message.CommandMessage) []any {
	if m.Encoding != message.EncodingTypeAMF0 || m.Body == nil {
		return nil
	}

	dec := message.NewAMFDecoder(m.Body, m.Encoding)

	var values []any

	for len(values) < 8 {
		var v any
		if err := dec.Decode(&v); err != nil {
			break
		}

		values = append(values, v)
	}

	return values
}

func (p *rtmpPusher) setLost(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()

	if p.readErr == nil {
		p.readErr = err
	}
}

// lost returns why the read loop stopped, in words.
func (p *rtmpPusher) lost() error {
	p.mu.Lock()
	defer p.mu.Unlock()

	if p.readErr == nil {
		return nil
	}

	return fmt.Errorf("connection lost: %w", shortErr(p.readErr))
}

// shortErr turns the errors of a connection into short reasons.
func shortErr(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("closed by the destination")
	}

	if errors.Is(err, net.ErrClosed) {
		return errors.New("connection closed")
	}

	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return errors.New("destination stopped reading or answering")
	}

	return err
}

// command sends an AMF0 command message: name, transaction ID, a command
// object (nil for null), then args.
func (p *rtmpPusher) command(sid uint32, name string, tx int64, obj any, args ...any) error {
	var buf bytes.Buffer

	enc := message.NewAMFEncoder(&buf, message.EncodingTypeAMF0)
	for _, v := range append([]any{name, float64(tx), obj}, args...) {
		if err := enc.Encode(v); err != nil {
			return fmt.Errorf("encode %s: %w", name, err)
		}
	}

	csid := commandChunkStream
	if sid != 0 {
		csid = commandChunkStream + 5 // a chunk stream of its own per message stream
	}

	return p.writeMessage(csid, typeCommandAMF0, sid, 0, buf.Bytes())
}

func (p *rtmpPusher) write(u *stream.Unit) error {
	tag, ok := p.mux.Tag(u)
	if !ok {
		return nil
	}

	return p.send(tag)
}

func (p *rtmpPusher) send(tag rtmp.FLVTag) error {
	if err := p.lost(); err != nil {
		return err
	}

	csid, typ := videoChunkStream, byte(typeVideo)
	if tag.Audio {
		csid, typ = audioChunkStream, typeAudio
	}

	if now := time.Now(); now.Sub(p.deadline) > -writeTimeout+deadlineEvery {
		p.deadline = now.Add(writeTimeout)
		p.conn.SetWriteDeadline(p.deadline)
	}

	if err := p.writeMessage(csid, typ, p.sid, tag.Timestamp, tag.Body); err != nil {
		return fmt.Errorf("write: %w", shortErr(err))
	}

	return nil
}

func (p *rtmpPusher) close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()

		return
	}

	p.closed = true
	p.mu.Unlock()

	if p.stop != nil {
		p.stop()
	}

	p.conn.Close()
}
