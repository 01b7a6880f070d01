package rtmp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	gortmp "github.com/yutopp/go-rtmp"
	"github.com/yutopp/go-rtmp/message"

	"github.com/onair/onair/ingest/stream"
)

// liveApp is the only RTMP application onair serves (SPEC: /live/<streamKey>).
const liveApp = "live"

// statusChunkStreamID carries the onStatus replies this package writes itself.
const statusChunkStreamID = 5

// conn is one RTMP connection: go-rtmp calls its handler methods from the
// connection's goroutine, one at a time. Only shutdown is called from others.
type conn struct {
	gortmp.DefaultHandler

	s      *Server
	sock   *socket
	log    *slog.Logger
	remote string
	hook   *logHook
	done   chan struct{} // closed in OnClose
	watch  sync.WaitGroup

	mu     sync.Mutex
	reason error // why the server closed the connection, when it did

	// Owned by the connection's goroutine.
	rc      *gortmp.Conn
	pub     *stream.Publisher
	pubn    *publication
	tl      timeline
	drops   packetErrors
	clean   bool // the publisher ended with deleteStream or FCUnpublish
	playing bool // a player was admitted (conn_play.go)
	rebased bool // a rebase was logged
}

// newConn prepares the state of a connection accepted on nc.
func newConn(s *Server, nc net.Conn) *conn {
	remote := nc.RemoteAddr().String()
	log := s.log.With("conn", remote)
	c := &conn{
		s:      s,
		log:    log,
		remote: remote,
		hook:   &logHook{log: log},
		done:   make(chan struct{}),
		drops:  packetErrors{log: log, now: time.Now},
	}
	c.sock = &socket{Conn: nc, c: c, timeout: s.ReadTimeout}

	return c
}

// shutdown closes the connection for reason; the first reason wins.
func (c *conn) shutdown(reason error) {
	c.mu.Lock()
	if c.reason == nil {
		c.reason = reason
	}
	c.mu.Unlock()

	_ = c.sock.Conn.Close()
}

// OnServe is called once the handshake is done.
func (c *conn) OnServe(rc *gortmp.Conn) {
	c.rc = rc
	c.log.Debug("opened")
}

// OnConnect accepts the connect command for the live application only.
func (c *conn) OnConnect(_ uint32, cmd *message.NetConnectionConnect) error {
	app, _, _ := strings.Cut(cmd.Command.App, "?")
	app = strings.TrimSuffix(app, "/")

	if app != liveApp {
		err := fmt.Errorf("app %q is not %q", app, liveApp)
		c.refuse(err)

		return err
	}

	return nil
}

// OnFCUnpublish marks a clean end of publishing.
func (c *conn) OnFCUnpublish(_ uint32, _ *message.NetStreamFCUnpublish) error {
	c.clean = true

	return nil
}

// OnDeleteStream marks a clean end of publishing.
func (c *conn) OnDeleteStream(_ uint32, _ *message.NetStreamDeleteStream) error {
	if c.pub != nil {
		c.clean = true
	}

	return nil
}

// OnPublish authenticates the stream key and claims the live input.
func (c *conn) OnPublish(
	ctx *gortmp.StreamContext, ts uint32, cmd *message.NetStreamPublish,
) error {
	if c.pub != nil || c.playing {
		c.refuse(errAlreadyPublishing)

		return errAlreadyPublishing
	}

	key, _, _ := strings.Cut(cmd.PublishingName, "?")

	hub, _, err := c.s.Directory.PublishHub("rtmp", key)
	if err != nil {
		return c.refusePublish(ctx, ts, fmt.Errorf("publish refused: %w", err))
	}

	pub, err := hub.Claim(stream.PublisherInfo{Protocol: c.s.Protocol, Remote: c.remote})
	if err != nil {
		return c.refusePublish(ctx, ts,
			fmt.Errorf("publish to input %s refused: %w", hub.InputUID, err))
	}

	c.pub = pub
	c.log = c.log.With("input", hub.InputUID)
	c.drops.log = c.log
	c.pubn = &publication{pub: pub, log: c.log, now: time.Now}

	c.watch.Add(1)
	go c.watchPublisher(pub)

	c.log.Info("publishing to input " + hub.InputUID)

	return nil
}

// watchPublisher closes the connection when the hub cuts the publisher off.
func (c *conn) watchPublisher(pub *stream.Publisher) {
	defer c.watch.Done()

	select {
	case <-pub.Context().Done():
		c.shutdown(fmt.Errorf("publisher cut off: %w", context.Cause(pub.Context())))

	case <-c.done:
	}
}

// refuse records why the connection is being refused.
func (c *conn) refuse(err error) {
	c.mu.Lock()
	if c.reason == nil {
		c.reason = err
	}
	c.mu.Unlock()
}

// refusePublish answers NetStream.Publish.BadName and returns err, after
// which go-rtmp answers NetStream.Publish.Failed and closes the connection.
func (c *conn) refusePublish(ctx *gortmp.StreamContext, ts uint32, err error) error {
	c.refuse(err)

	status := &message.NetStreamOnStatus{InfoObject: message.NetStreamOnStatusInfoObject{
		Level:       message.NetStreamOnStatusLevelError,
		Code:        message.NetStreamOnStatusCodePublishBadName,
		Description: err.Error(),
	}}

	if werr := c.writeCommand(ctx.StreamID, ts, "onStatus", status); werr != nil {
		c.log.Debug("onStatus not sent", "error", werr)
	}

	return err
}

// writeCommand sends an AMF0 command message on message stream sid.
func (c *conn) writeCommand(sid, ts uint32, name string, body message.AMFConvertible) error {
	buf := new(bytes.Buffer)
	if err := message.EncodeBodyAnyValues(message.NewAMFEncoder(buf, message.EncodingTypeAMF0),
		body); err != nil {
		return err
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()

	return c.rc.Write(ctx, statusChunkStreamID, ts, &gortmp.ChunkMessage{
		StreamID: sid,
		Message: &message.CommandMessage{
			CommandName: name,
			Encoding:    message.EncodingTypeAMF0,
			Body:        buf,
		},
	})
}

// OnSetDataFrame reads onMetaData for the tracks it announces.
func (c *conn) OnSetDataFrame(_ uint32, data *message.NetStreamSetDataFrame) error {
	md, err := parseMetadata(data.Payload)
	if err != nil {
		c.drops.add(err)

		return nil
	}

	if c.pubn != nil {
		c.pubn.setMetadata(md.HasVideo, md.HasAudio)
	}

	return nil
}

// OnAudio handles an FLV audio tag. A bad tag is dropped, never fatal.
func (c *conn) OnAudio(ts uint32, payload io.Reader) error {
	buf, err := io.ReadAll(payload)
	if err != nil || c.pubn == nil {
		return err
	}

	if err := c.handleAudio(ts, buf); err != nil {
		c.drops.add(err)
	}

	return nil
}

// OnVideo handles an FLV video tag. A bad tag is dropped, never fatal.
func (c *conn) OnVideo(ts uint32, payload io.Reader) error {
	buf, err := io.ReadAll(payload)
	if err != nil || c.pubn == nil {
		return err
	}

	if err := c.handleVideo(ts, buf); err != nil {
		c.drops.add(err)
	}

	return nil
}

// OnClose ends the publication, if any, and logs why the connection closed.
func (c *conn) OnClose() {
	c.drops.flush()

	reason, endReason := c.closeReason()

	close(c.done)
	c.watch.Wait()

	if c.pub != nil {
		c.pub.End(endReason)
	}

	c.log.Info("closed: " + reason.Error())
	c.s.forget(c)
}

// closeReason says why the connection closed, and the reason to end the
// broadcast with: nil for a publisher that ended cleanly.
func (c *conn) closeReason() (error, error) {
	c.mu.Lock()
	reason := c.reason
	c.mu.Unlock()

	switch {
	case reason != nil:
		return reason, reason

	case c.clean:
		return errors.New("publisher ended the stream"), nil
	}

	// A read error says how the socket broke; without one, go-rtmp stopped
	// on a protocol error that it logged.
	cause := c.sock.err()
	if msg := c.hook.err(); cause == nil && msg != "" {
		cause = errors.New(msg)
	}

	if cause == nil || errors.Is(cause, io.EOF) {
		cause = errors.New("peer closed the connection")
	}

	err := fmt.Errorf("%w: %w", ErrConnectionLost, cause)

	return err, err
}
