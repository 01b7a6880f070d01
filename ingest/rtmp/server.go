package rtmp

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	gortmp "github.com/yutopp/go-rtmp"

	"github.com/onair/onair/ingest/stream"
)

// defaultReadTimeout is how long a connection may stay silent.
const defaultReadTimeout = 30 * time.Second

// acceptRetryDelay paces the accept loop after an accept error that is not
// the listener being closed (too many open files, for example).
const acceptRetryDelay = 50 * time.Millisecond

// Server accepts RTMP (or RTMPS) publishers on a listener. Fill its fields,
// call Start, and Close when done.
type Server struct {
	// Directory authenticates publishers. Required.
	Directory stream.Directory

	// Log receives the server's lines; nil discards them.
	Log *slog.Logger

	// TLSConfig, when set, makes the server speak RTMPS: RTMP inside TLS.
	TLSConfig *tls.Config

	// Protocol names the server in logs and PublisherInfo; empty means
	// "rtmp", or "rtmps" when TLSConfig is set. Stream keys are looked up as
	// Directory.PublishHub("rtmp", key) either way: RTMPS shares RTMP's keys.
	Protocol string

	// ReadTimeout closes a connection that sends nothing for that long; zero
	// means 30 seconds.
	ReadTimeout time.Duration

	log  *slog.Logger
	ln   net.Listener
	srv  *gortmp.Server
	done chan struct{} // closed when the accept loop has returned

	mu      sync.Mutex
	started bool
	closed  bool
	conns   map[*conn]struct{}
	wg      sync.WaitGroup // one per accepted connection
}

// Start serves ln in a goroutine that the server owns. ln is closed by Close.
func (s *Server) Start(ln net.Listener) error {
	if s.Directory == nil {
		return errors.New("rtmp server needs a directory")
	}

	s.mu.Lock()
	defer s.mu.Unlock()

	if s.started {
		return errors.New("rtmp server already started")
	}

	s.started = true

	if s.Protocol == "" {
		s.Protocol = "rtmp"
		if s.TLSConfig != nil {
			s.Protocol = "rtmps"
		}
	}

	if s.ReadTimeout == 0 {
		s.ReadTimeout = defaultReadTimeout
	}

	log := s.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}

	s.log = log.With("component", s.Protocol)
	s.ln = ln
	s.conns = map[*conn]struct{}{}
	s.done = make(chan struct{})
	s.srv = gortmp.NewServer(&gortmp.ServerConfig{OnConnect: s.onConnect})

	go s.serve()

	s.log.Info("listening", "addr", ln.Addr().String())

	return nil
}

// serve runs go-rtmp's accept loop over a listener that registers each
// connection, so that Close can cut them off and wait for them.
func (s *Server) serve() {
	defer close(s.done)

	err := s.srv.Serve(&listener{Listener: s.ln, s: s})
	if err != nil && !errors.Is(err, gortmp.ErrClosed) {
		s.log.Error("accept loop stopped", "error", err)
	}
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

	_ = s.srv.Close()
	_ = s.ln.Close()

	for _, c := range conns {
		c.shutdown(ErrServerClosed)
	}

	<-s.done
	s.wg.Wait()

	return nil
}

// register tracks a new connection; it reports false once the server closes.
func (s *Server) register(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()

	s.wg.Add(1)
	if s.closed {
		return false
	}

	s.conns[c] = struct{}{}

	return true
}

// forget drops a connection that has closed.
func (s *Server) forget(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()

	s.wg.Done()
}

// onConnect is go-rtmp's hook for an accepted connection: it returns the
// stream to speak RTMP over and the connection's handler.
func (s *Server) onConnect(nc net.Conn) (io.ReadWriteCloser, *gortmp.ConnConfig) {
	sock := nc.(*socket)
	c := sock.c

	var rwc io.ReadWriteCloser = sock
	if s.TLSConfig != nil {
		rwc = tls.Server(sock, s.TLSConfig)
	}

	rwc = fixedConn{Reader: newChunkFixer(rwc), WriteCloser: rwc}

	return rwc, &gortmp.ConnConfig{
		Handler: c,
		Logger:  c.hook.logger(),
	}
}

// listener registers every accepted connection with its server.
type listener struct {
	net.Listener
	s *Server
}

// Accept waits for a connection and wraps it in a socket owned by a conn.
func (l *listener) Accept() (net.Conn, error) {
	nc, err := l.Listener.Accept()
	if err != nil {
		l.s.mu.Lock()
		closed := l.s.closed
		l.s.mu.Unlock()

		if !closed {
			time.Sleep(acceptRetryDelay)
		}

		return nil, fmt.Errorf("rtmp accept: %w", err)
	}

	c := newConn(l.s, nc)
	if !l.s.register(c) {
		// go-rtmp still runs the connection: it fails at once and calls OnClose.
		c.shutdown(ErrServerClosed)
	}

	return c.sock, nil
}

// fixedConn reads a connection through a chunkFixer and writes it directly.
type fixedConn struct {
	io.Reader
	io.WriteCloser
}
