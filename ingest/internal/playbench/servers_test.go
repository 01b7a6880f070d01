package playbench

import (
	"crypto/tls"
	"io"
	"net"
	"strconv"

	"github.com/onair/onair/ingest/rtmp"
	"github.com/onair/onair/ingest/srt"
	"github.com/onair/onair/ingest/stream"
)

// directory opens the benchmark's one live input.
type directory struct {
	hub *stream.Hub
}

// PublishHub opens the input to publishKey.
func (d *directory) PublishHub(_, key string) (*stream.Hub, stream.Secret, error) {
	if key != publishKey {
		return nil, "", &stream.AuthError{Reason: stream.AuthUnknownKey}
	}

	return d.hub, "", nil
}

// PlaybackHub opens the input to playbackKey, with a passphrase over SRT.
func (d *directory) PlaybackHub(protocol, key string) (*stream.Hub, stream.Secret, error) {
	if key != playbackKey {
		return nil, "", &stream.AuthError{Reason: stream.AuthUnknownKey}
	}

	if protocol == "srt" {
		return d.hub, passphrase, nil
	}

	return d.hub, "", nil
}

// servers are the ingest servers of one session.
type servers struct {
	rtmp, rtmps, srt string // addresses; empty when not started
	clientTLS        *tls.Config

	closers []io.Closer
}

// startServers starts an RTMP server, and the RTMPS or SRT server pc plays
// from.
func startServers(pc playCase, dir stream.Directory) (*servers, error) {
	s := &servers{}

	addr, err := s.startRTMP(&rtmp.Server{Directory: dir})
	if err != nil {
		return nil, err
	}

	s.rtmp = addr

	switch pc.protocol {
	case "rtmps":
		server, client, err := selfSigned()
		if err == nil {
			s.clientTLS = client
			s.rtmps, err = s.startRTMP(&rtmp.Server{Directory: dir, TLSConfig: server})
		}

		if err != nil {
			s.close()

			return nil, err
		}

	case "srt":
		if err := s.startSRT(dir); err != nil {
			s.close()

			return nil, err
		}
	}

	return s, nil
}

// startRTMP starts srv on a loopback port and returns its address.
func (s *servers) startRTMP(srv *rtmp.Server) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}

	if err := srv.Start(ln); err != nil {
		ln.Close()

		return "", err
	}

	s.closers = append(s.closers, srv)

	return ln.Addr().String(), nil
}

// startSRT starts an SRT server on a UDP port the kernel just handed out
// (srtgo cannot report the port of a listener bound to 0).
func (s *servers) startSRT(dir stream.Directory) error {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return err
	}

	port := pc.LocalAddr().(*net.UDPAddr).Port
	pc.Close()

	srv := &srt.Server{Address: "127.0.0.1:" + strconv.Itoa(port), Directory: dir}
	if err := srv.Start(); err != nil {
		return err
	}

	s.closers = append(s.closers, srv)
	s.srt = srv.Address

	return nil
}

// close closes every server started.
func (s *servers) close() {
	for _, c := range s.closers {
		c.Close()
	}
}
