package srt

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/haivision/srtgo"

	"github.com/onair/onair/ingest/stream"
)

// Defaults of a Server's settings.
const (
	// defaultPlayerQueue is how many units a player may fall behind before
	// the broadcast drops it: about 4 s of 30 fps video with audio.
	defaultPlayerQueue = 256

	// listenBacklog is how many handshakes may wait for accept.
	listenBacklog = 16

	// acceptRetryDelay paces the accept loop after an accept error.
	acceptRetryDelay = 50 * time.Millisecond
)

// Server accepts SRT publishers and players on a UDP address. Fill its
// fields, call Start, and Close when done.
type Server struct {
	// Address is the UDP host:port to listen on. Required; port 0 is not
	// supported (libsrt picks no port that the server could report).
	Address string

	// Directory authenticates callers. Required.
	Directory stream.Directory

	// Log receives the server's lines; nil discards them.
	Log *slog.Logger

	// PlayerQueue is how many units a player may fall behind before it is
	// dropped; zero means 256.
	PlayerQueue int

	// LatencyMS is the SRT latency in milliseconds that the listener offers;
	// zero keeps libsrt's default (120 ms). The larger of the two peers'
	// values wins.
	LatencyMS int

	log *slog.Logger
	ln  *srtgo.SrtSocket

	mu      sync.Mutex
	started bool
	closed  bool
	conns   map[*conn]struct{}
	wg      sync.WaitGroup // the accept loop and one per connection
}

// Start listens on Address and accepts callers in a goroutine the server
// owns.
func (s *Server) Start() error {
	if s.Directory == nil {
		return errors.New("srt server needs a directory")
	}

	host, portText, err := net.SplitHostPort(s.Address)
	if err != nil {
		return fmt.Errorf("srt address %q: %w", s.Address, err)
	}

	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil || port == 0 {
		return fmt.Errorf("srt address %q: want a port from 1 to 65535", s.Address)
	}

	if host == "" {
		host = "0.0.0.0"
	}

	s.mu.Lock()
	defer s.mu.Unlock()

	if s.started {
		return errors.New("srt server already started")
	}

	log := s.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}

	s.log = log.With("component", "srt")

	if s.PlayerQueue == 0 {
		s.PlayerQueue = defaultPlayerQueue
	}

	srtgo.InitSRT()
	routeLibsrtLog(s.log)

	opts := map[string]string{"blocking": "0", "transtype": "live"}
	if s.LatencyMS > 0 {
		opts["latency"] = strconv.Itoa(s.LatencyMS)
	}

	ln := srtgo.NewSrtSocket(host, uint16(port), opts)
	if ln == nil {
		return fmt.Errorf("srt socket for %q could not be created", s.Address)
	}

	// srtgo recycles poll state without its deadline: clear what a closed
	// socket left behind.
	ln.SetDeadline(time.Time{})
	ln.SetListenCallback(s.admit)

	if err := ln.Listen(listenBacklog); err != nil {
		return fmt.Errorf("srt listen on %q: %w", s.Address, err)
	}

	s.started = true
	s.ln = ln
	s.conns = map[*conn]struct{}{}

	s.wg.Add(1)
	go s.accept()

	s.log.Info("listening", "addr", s.Address)

	return nil
}

// Close stops accepting, closes every connection and waits for them.
func (s *Server) Close() error {
	s.mu.Lock()
	if !s.started || s.closed {
		s.mu.Unlock()

		return nil
	}

	s.closed = true
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()

	// srtgo's Close does not wake a goroutine waiting in Accept; a deadline
	// in the past does.
	s.ln.SetDeadline(time.Now())
	s.ln.Close()

	for _, c := range conns {
		c.shutdown(ErrServerClosed)
	}

	s.wg.Wait()

	return nil
}

// accept runs the accept loop until the listener is closed.
func (s *Server) accept() {
	defer s.wg.Done()

	for {
		sock, addr, err := s.ln.Accept()
		if err != nil {
			if s.isClosed() {
				return
			}

			s.log.Warn("accept failed", "error", err)
			time.Sleep(acceptRetryDelay)

			continue
		}

		s.serve(sock, addr)
	}
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()

	return s.closed
}

// serve starts the connection of an accepted caller.
func (s *Server) serve(sock *srtgo.SrtSocket, addr *net.UDPAddr) {
	remote := "unknown"
	if addr != nil {
		remote = addr.String()
	}

	sock.SetDeadline(time.Time{}) // see Start: recycled poll state

	c := &conn{s: s, sock: sock, remote: remote, log: s.log.With("conn", remote),
		done: make(chan struct{})}

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		sock.Close()

		return
	}

	s.conns[c] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()

	go c.run()
}

// forget drops a connection that has closed.
func (s *Server) forget(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()

	s.wg.Done()
}
