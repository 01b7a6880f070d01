package rtmp

import (
	"net"
	"sync"
	"time"
)

// socket is a connection's TCP socket: it applies the read timeout and keeps
// the first read error, which says how a connection that broke was lost.
type socket struct {
	net.Conn
	c       *conn
	timeout time.Duration
	gate    playGate // opened before each read, see conn_play.go

	mu        sync.Mutex
	readErr   error
	lastWrite time.Time
}

// Read reads with a deadline and records the first error.
func (s *socket) Read(b []byte) (int, error) {
	s.gate.open()
	_ = s.Conn.SetReadDeadline(time.Now().Add(s.timeout))

	n, err := s.Conn.Read(b)
	if err != nil {
		s.mu.Lock()
		if s.readErr == nil {
			s.readErr = err
		}
		s.mu.Unlock()
	}

	return n, err
}

// Write writes with a deadline, so that a player that stopped reading is
// closed instead of holding its connection open.
func (s *socket) Write(b []byte) (int, error) {
	_ = s.Conn.SetWriteDeadline(time.Now().Add(playerWriteTimeout))

	n, err := s.Conn.Write(b)

	s.mu.Lock()
	s.lastWrite = time.Now()
	s.mu.Unlock()

	return n, err
}

// quietFor reports whether nothing was written for d.
func (s *socket) quietFor(d time.Duration) bool {
	s.mu.Lock()
	defer s.mu.Unlock()

	return time.Since(s.lastWrite) >= d
}

// err returns the first read error, or nil.
func (s *socket) err() error {
	s.mu.Lock()
	defer s.mu.Unlock()

	return s.readErr
}
