package srt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/haivision/srtgo"

	"github.com/onair/onair/ingest/stream"
)

// conn is one accepted SRT caller, publishing or playing.
type conn struct {
	s      *Server
	sock   *srtgo.SrtSocket
	remote string
	log    *slog.Logger
	done   chan struct{} // closed when run returns its work

	mu       sync.Mutex
	reason   error // why the server closed the connection, when it did
	sockDone bool
}

// shutdown closes the connection for reason; the first reason wins.
func (c *conn) shutdown(reason error) {
	c.mu.Lock()
	defer c.mu.Unlock()

	if c.reason == nil {
		c.reason = reason
	}

	if !c.sockDone {
		c.sockDone = true
		// A deadline wakes a Read or Write in progress, which Close does not.
		c.sock.SetDeadline(time.Now())
		c.sock.Close()
	}
}

// cause returns the reason set by shutdown, or nil.
func (c *conn) cause() error {
	c.mu.Lock()
	defer c.mu.Unlock()

	return c.reason
}

// run serves the caller in the role its stream ID gives, then closes.
func (c *conn) run() {
	defer c.s.forget(c)
	defer c.shutdown(errors.New("connection closed"))

	sid, err := c.sock.GetSockOptString(srtgo.SRTO_STREAMID)
	if err != nil {
		c.log.Warn("closed: stream id unreadable", "error", err)

		return
	}

	// libsrt may hand the option back with its terminating zero.
	a, err := c.s.resolve(strings.TrimRight(sid, "\x00"))
	if err != nil {
		c.log.Warn("closed: " + err.Error())

		return
	}

	c.log = c.log.With("input", a.hub.InputUID)
	c.log.Debug("opened", "mode", a.mode)

	if a.mode == modePublish {
		err = c.publish(a.hub)
	} else {
		err = c.play(a.hub)
	}

	c.log.Info("closed: " + err.Error())
}

// publish demuxes what the caller sends into broadcasts of the hub.
func (c *conn) publish(hub *stream.Hub) error {
	pub, err := hub.Claim(stream.PublisherInfo{Protocol: "srt", Remote: c.remote})
	if err != nil {
		return fmt.Errorf("publish to input %s refused: %w", hub.InputUID, err)
	}

	c.log.Info("publishing to input " + hub.InputUID)

	var watch sync.WaitGroup
	watch.Add(1)

	go func() {
		defer watch.Done()

		select {
		case <-pub.Context().Done():
			c.shutdown(fmt.Errorf("publisher cut off: %w", context.Cause(pub.Context())))

		case <-c.done:
		}
	}()

	ps := &publisherSink{pub: pub}
	d := newDemuxer(c.sock, ps, c.log)
	err = d.run()
	close(c.done)
	watch.Wait()

	reason, ended := c.cause(), false
	switch {
	case reason != nil:
	case !ps.started:
		reason = errNoTracks
	case errors.Is(err, io.EOF) || time.Since(d.pr.last) < closedWithin:
		// libsrt reports the caller's own close (its shutdown message) as a
		// broken connection, just like a link that timed out; but a link
		// only times out after seconds without data.
		reason, ended = errPublisherEnded, true
	default:
		reason = fmt.Errorf("%w after %s without data: %w", ErrConnectionLost,
			time.Since(d.pr.last).Round(time.Second), err)
	}

	if d.errs > 0 || d.pr.skipped > 0 {
		c.log.Warn("mpeg-ts errors", "packets_dropped", d.errs, "bytes_skipped", d.pr.skipped)
	}

	if ended {
		pub.End(nil)
	} else {
		pub.End(reason)
	}

	return reason
}

// publisherSink starts broadcasts and writes units on a publisher.
type publisherSink struct {
	pub     *stream.Publisher
	started bool
}

func (p *publisherSink) start(tracks []*stream.Track) {
	if len(tracks) == 0 {
		return
	}

	p.started = true
	p.pub.Start(tracks)
}

func (p *publisherSink) write(u *stream.Unit) {
	p.pub.Write(u)
}
