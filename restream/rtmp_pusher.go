package restream

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/sirupsen/logrus"
	gortmp "github.com/yutopp/go-rtmp"
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

	// publishSettle is how long a push waits after publish for the
	// destination to refuse it (onStatus error, or a closed connection)
	// before it sends media.
	publishSettle = 200 * time.Millisecond
)

// Chunk streams of the messages a push sends (RTMP spec 5.3.1.1: 2 is the
// protocol control stream, 3 carries commands).
const (
	videoChunkStream = 6
	audioChunkStream = 7
)

// socketHandle keeps the raw sockets a dial created, so that a handshake or a
// command stuck on a silent destination can be woken: go-rtmp's client has
// no timeouts of its own. Shutting down a socket that was closed meanwhile is
// refused by the runtime, so no other file is ever touched.
type socketHandle struct {
	mu    sync.Mutex
	conns []syscall.RawConn
}

func (h *socketHandle) control(_, _ string, c syscall.RawConn) error {
	h.mu.Lock()
	h.conns = append(h.conns, c)
	h.mu.Unlock()

	return nil
}

// shutdown wakes every blocked read and write on the sockets.
func (h *socketHandle) shutdown() {
	h.mu.Lock()
	defer h.mu.Unlock()

	for _, c := range h.conns {
		_ = c.Control(func(fd uintptr) {
			_ = syscall.Shutdown(int(fd), syscall.SHUT_RDWR)
		})
	}
}

// rtmpPusher publishes to an RTMP or RTMPS destination.
type rtmpPusher struct {
	cc     *gortmp.ClientConn
	st     *gortmp.Stream
	mux    *rtmp.FLVMuxer
	handle *socketHandle
	status *statusHook
	stop   func() bool
	once   sync.Once
}

// dialRTMP connects, publishes d.Name in d.App and sends the sequence
// headers.
func dialRTMP(ctx context.Context, d *destination.Destination, tracks []*stream.Track) (pusher, error) {
	if !carriesFLV(tracks) {
		return nil, errNoTracks
	}

	setup, cancel := context.WithTimeoutCause(ctx, setupTimeout, errSetupTimeout)
	defer cancel()

	h := &socketHandle{}
	stopWatch := context.AfterFunc(setup, h.shutdown)

	p := &rtmpPusher{handle: h, mux: rtmp.NewFLVMuxer(tracks), status: newStatusHook()}

	err := p.open(setup, d)
	if !stopWatch() || setup.Err() != nil {
		err = cmpErr(context.Cause(setup), err)
	}

	if err != nil {
		p.close()

		return nil, err
	}

	// From here, a disabled output closes the connection at once.
	p.stop = context.AfterFunc(ctx, p.close)

	for _, tag := range p.mux.Headers() {
		if err := p.send(tag); err != nil {
			p.close()

			return nil, err
		}
	}

	return p, nil
}

// cmpErr prefers the context's cause over the error it provoked.
func cmpErr(cause, err error) error {
	if cause != nil {
		return cause
	}

	return err
}

func (p *rtmpPusher) open(ctx context.Context, d *destination.Destination) error {
	nd := &net.Dialer{Control: p.handle.control}
	cfg := &gortmp.ConnConfig{Logger: p.status.logger()}

	var err error

	if d.Scheme == "rtmps" {
		td := &tls.Dialer{NetDialer: nd, Config: &tls.Config{ServerName: d.Host,
			InsecureSkipVerify: d.TLSSkipVerify, MinVersion: tls.VersionTLS12}}
		p.cc, err = gortmp.DialWithTLSDialer(td, "rtmps", d.Address(), cfg)
	} else {
		p.cc, err = gortmp.DialWithDialer(nd, "rtmp", d.Address(), cfg)
	}

	if err != nil {
		return fmt.Errorf("connect: %w", unwrapDial(err))
	}

	err = p.cc.Connect(&message.NetConnectionConnect{Command: message.NetConnectionConnectCommand{
		App: d.App, Type: "nonprivate", FlashVer: "FMLE/3.0 (compatible; onair)",
		TCURL: d.TCURL,
	}})
	if err != nil {
		return fmt.Errorf("rtmp connect to application refused: %w", unwrapDial(err))
	}

	p.st, err = p.cc.CreateStream(nil, 0)
	if err != nil {
		return fmt.Errorf("rtmp createStream refused: %w", unwrapDial(err))
	}

	err = p.st.Publish(&message.NetStreamPublish{PublishingName: d.Name, PublishingType: "live"})
	if err != nil {
		return fmt.Errorf("rtmp publish: %w", unwrapDial(err))
	}

	return p.settle(ctx)
}

// settle waits briefly for a refusal of the publish: an onStatus error, or a
// destination that hangs up.
func (p *rtmpPusher) settle(ctx context.Context) error {
	t := time.NewTimer(publishSettle)
	defer t.Stop()

	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-p.status.refused:
		return p.status.err()
	case <-t.C:
	}

	if err := p.cc.LastError(); err != nil {
		return fmt.Errorf("destination closed the connection: %w", unwrapDial(err))
	}

	return nil
}

// unwrapDial shortens go-rtmp's stacked error text to its cause.
func unwrapDial(err error) error {
	var ne net.Error
	if errors.As(err, &ne) {
		return ne
	}

	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("connection closed by the destination")
	}

	return err
}

func (p *rtmpPusher) write(u *stream.Unit) error {
	tag, ok := p.mux.Tag(u)
	if !ok {
		return nil
	}

	return p.send(tag)
}

func (p *rtmpPusher) send(tag rtmp.FLVTag) error {
	if err := p.status.err(); err != nil {
		return err
	}

	if err := p.cc.LastError(); err != nil {
		return fmt.Errorf("connection lost: %w", unwrapDial(err))
	}

	var msg message.Message = &message.VideoMessage{Payload: bytes.NewReader(tag.Body)}
	csid := videoChunkStream

	if tag.Audio {
		msg = &message.AudioMessage{Payload: bytes.NewReader(tag.Body)}
		csid = audioChunkStream
	}

	// go-rtmp gives up after 5 s when the previous message of the chunk
	// stream is still unsent: a destination that stopped reading.
	if err := p.st.Write(csid, tag.Timestamp, msg); err != nil {
		return fmt.Errorf("write stalled or failed: %w", unwrapDial(err))
	}

	return nil
}

func (p *rtmpPusher) close() {
	p.once.Do(func() {
		if p.stop != nil {
			p.stop()
		}

		p.handle.shutdown()

		if p.cc != nil {
			p.cc.Close()
		}
	})
}

// carriesFLV reports whether any track is H.264 or AAC.
func carriesFLV(tracks []*stream.Track) bool {
	for _, t := range tracks {
		if t.Codec == stream.CodecH264 || t.Codec == stream.CodecAAC {
			return true
		}
	}

	return false
}

// statusHook reads the destination's onStatus answers out of go-rtmp's log
// lines: its client hands them to no handler, only to a warning that quotes
// their values. Nothing of the line is kept but the status code.
type statusHook struct {
	once    sync.Once
	refused chan struct{}

	mu     sync.Mutex
	reason error
}

func newStatusHook() *statusHook {
	return &statusHook{refused: make(chan struct{})}
}

// logger returns a logrus logger that writes nowhere but to the hook. Its
// info level, which go-rtmp fills with the publish command and so the stream
// key, is never enabled.
func (h *statusHook) logger() *logrus.Logger {
	l := logrus.New()
	l.Out = io.Discard
	l.Level = logrus.WarnLevel
	l.AddHook(h)

	return l
}

// Levels returns the levels the hook receives.
func (h *statusHook) Levels() []logrus.Level {
	return []logrus.Level{logrus.WarnLevel}
}

// Fire looks for an onStatus of level error.
func (h *statusHook) Fire(e *logrus.Entry) error {
	msg := e.Message
	if !strings.Contains(msg, "Name = onStatus") || !strings.Contains(msg, "level:error") {
		return nil
	}

	reason := "publish refused by the destination"

	if _, after, ok := strings.Cut(msg, "code:"); ok {
		code, _, _ := strings.Cut(after, " ")
		code = strings.TrimRight(code, "]")

		if len(code) <= 64 && strings.HasPrefix(code, "NetStream.") {
			reason += ": " + code
		}
	}

	h.mu.Lock()
	if h.reason == nil {
		h.reason = errors.New(reason)
	}
	h.mu.Unlock()

	h.once.Do(func() { close(h.refused) })

	return nil
}

func (h *statusHook) err() error {
	h.mu.Lock()
	defer h.mu.Unlock()

	return h.reason
}
