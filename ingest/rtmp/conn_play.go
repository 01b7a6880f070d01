package rtmp

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	gortmp "github.com/yutopp/go-rtmp"
	"github.com/yutopp/go-rtmp/message"

	"github.com/onair/onair/ingest/stream"
)

// Limits of playback.
const (
	// playerQueue is how many units a player may fall behind before the
	// broadcast drops it: about 4 s of 30 fps video with audio.
	playerQueue = 256

	// playerWriteTimeout closes a player whose socket accepts nothing for
	// that long.
	playerWriteTimeout = 10 * time.Second

	// drainQuiet and drainLimit bound the wait for the last queued messages
	// when a broadcast ends: a socket quiet for drainQuiet has sent them.
	drainQuiet = 100 * time.Millisecond
	drainLimit = 2 * time.Second
)

// Chunk streams of the media this package writes to players.
const (
	videoChunkStreamID = 6
	audioChunkStreamID = 7
)

// errAlreadyPlaying refuses a second play on one connection.
var errAlreadyPlaying = errors.New("connection is already playing or publishing")

// playGate holds a player's writes back until go-rtmp has answered the play
// command: the connection's goroutine opens it on its next socket read, once
// it is idle, so that the two never encode a message at the same time.
type playGate struct {
	mu    sync.Mutex
	armed chan struct{} // closed on the next read after arm; nil when unarmed
}

// arm returns a channel that is closed on the next socket read.
func (g *playGate) arm() <-chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()

	g.armed = make(chan struct{})

	return g.armed
}

// open is called by the socket before each read.
func (g *playGate) open() {
	g.mu.Lock()
	defer g.mu.Unlock()

	if g.armed != nil {
		close(g.armed)
		g.armed = nil
	}
}

// OnPlay admits a player with a playback key and starts sending it the
// broadcast in progress from its last keyframe, without transcoding.
func (c *conn) OnPlay(ctx *gortmp.StreamContext, _ uint32, cmd *message.NetStreamPlay) error {
	if c.pub != nil || c.playing {
		c.refuse(errAlreadyPlaying)

		return errAlreadyPlaying
	}

	key, _, _ := strings.Cut(cmd.StreamName, "?")

	hub, _, err := c.s.Directory.PlaybackHub("rtmp", key)
	if err != nil {
		err = fmt.Errorf("play refused: %w", err)
		c.refuse(err)

		return err
	}

	r, err := hub.Subscribe(c.s.Protocol+" "+c.remote, playerQueue)
	if err != nil {
		err = fmt.Errorf("play of input %s refused: %w", hub.InputUID, err)
		c.refuse(err)

		return err
	}

	c.playing = true
	c.log = c.log.With("input", hub.InputUID)
	c.log.Info("playing input " + hub.InputUID)

	start := c.sock.gate.arm()

	c.watch.Add(1)
	go c.play(r, ctx.StreamID, start)

	return nil
}

// play writes the reader's units as FLV tags until the broadcast ends, the
// player falls behind or the connection closes.
func (c *conn) play(r *stream.Reader, sid uint32, start <-chan struct{}) {
	defer c.watch.Done()
	defer r.Close()

	select {
	case <-start:
	case <-c.done:
		return
	}

	w := &tagWriter{tracks: r.Tracks()}
	for _, msg := range w.headers() {
		if err := c.writeMedia(sid, msg); err != nil {
			c.shutdown(fmt.Errorf("%w: %w", ErrConnectionLost, err))

			return
		}
	}

	for u := range r.Units() {
		msg, ok := w.unit(u)
		if !ok {
			continue
		}

		if err := c.writeMedia(sid, msg); err != nil {
			c.shutdown(fmt.Errorf("%w: %w", ErrConnectionLost, err))

			return
		}
	}

	reason := r.Err()
	if errors.Is(reason, stream.ErrSlowReader) {
		c.log.Warn("player dropped", "reason", reason)
	} else {
		c.drain()
	}

	c.shutdown(fmt.Errorf("playback ended: %w", reason))
}

// drain gives go-rtmp's writer, which sends queued messages from a goroutine
// of its own, the time to send the last ones before the socket closes: until
// the socket has been quiet for drainQuiet, at most drainLimit.
func (c *conn) drain() {
	deadline := time.Now().Add(drainLimit)
	tick := time.NewTicker(drainQuiet / 4)
	defer tick.Stop()

	for !c.sock.quietFor(drainQuiet) && time.Now().Before(deadline) {
		select {
		case <-tick.C:
		case <-c.done:
			return
		}
	}
}

// writeMedia sends one audio or video message.
func (c *conn) writeMedia(sid uint32, m tagMessage) error {
	ctx, cancel := context.WithTimeout(context.Background(), playerWriteTimeout)
	defer cancel()

	var msg message.Message = &message.VideoMessage{Payload: m.payload()}
	csid := videoChunkStreamID

	if m.audio {
		msg = &message.AudioMessage{Payload: m.payload()}
		csid = audioChunkStreamID
	}

	return c.rc.Write(ctx, csid, m.ts, &gortmp.ChunkMessage{StreamID: sid, Message: msg})
}
