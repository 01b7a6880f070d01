package srt

import (
	"errors"
	"fmt"
	"net"

	"github.com/haivision/srtgo"

	"github.com/onair/onair/ingest/stream"
)

// admission is what a caller's stream ID opens.
type admission struct {
	hub    *stream.Hub
	mode   mode // modePublish or modeRequest
	secret stream.Secret
}

// admit is libsrt's listen callback, run during the handshake before the
// caller is accepted: it looks the stream ID up, sets the input's
// passphrase on the new socket (libsrt then refuses a caller whose key does
// not match) or rejects the caller with an SRT reject reason.
func (s *Server) admit(sock *srtgo.SrtSocket, _ int, addr *net.UDPAddr, sid string) bool {
	remote := "unknown"
	if addr != nil {
		remote = addr.String()
	}

	a, err := s.resolve(sid)
	if err != nil {
		s.reject(sock, remote, err)

		return false
	}

	if a.secret != "" {
		if err := sock.SetSockOptString(srtgo.SRTO_PASSPHRASE, string(a.secret)); err != nil {
			s.reject(sock, remote, fmt.Errorf("passphrase of input %s not set: %w",
				a.hub.InputUID, err))

			return false
		}
	}

	s.log.Debug("handshake admitted", "conn", remote, "input", a.hub.InputUID, "mode", a.mode)

	return true
}

// resolve looks a stream ID up: a bare one as a publish ID first, then as a
// playback ID.
func (s *Server) resolve(sid string) (admission, error) {
	id, err := parseStreamID(sid)
	if err != nil {
		return admission{}, err
	}

	if id.Mode != modeRequest {
		hub, secret, err := s.Directory.PublishHub("srt", id.Resource)
		if err == nil {
			return admission{hub: hub, mode: modePublish, secret: secret}, nil
		}

		var auth *stream.AuthError
		if id.Mode == modePublish || !errors.As(err, &auth) || auth.Reason != stream.AuthUnknownKey {
			return admission{}, err
		}
	}

	hub, secret, err := s.Directory.PlaybackHub("srt", id.Resource)
	if err != nil {
		return admission{}, err
	}

	return admission{hub: hub, mode: modeRequest, secret: secret}, nil
}

// reject sets the reject reason for err and logs the refusal.
func (s *Server) reject(sock *srtgo.SrtSocket, remote string, err error) {
	if rerr := sock.SetRejectReason(rejectReason(err)); rerr != nil {
		s.log.Debug("reject reason not set", "conn", remote, "error", rerr)
	}

	s.log.Warn("handshake rejected", "conn", remote, "reason", err)
}

// rejectReason maps a refusal to the SRT access-control reject codes (SRT
// draft, "Rejection Codes": 1400 bad request, 1403 forbidden, 1404 not
// found, 1405 bad mode).
func rejectReason(err error) int {
	var auth *stream.AuthError

	switch {
	case errors.As(err, &auth) && auth.Reason == stream.AuthDisabled:
		return srtgo.RejectionReasonForbidden

	case errors.As(err, &auth):
		return srtgo.RejectionReasonNotFound

	case errors.Is(err, errBadMode):
		return srtgo.RejectionReasonBadMode

	case errors.Is(err, errEmptyStreamID), errors.Is(err, errNoResource),
		errors.Is(err, errStreamIDTooLong):
		return srtgo.RejectionReasonBadRequest
	}

	return srtgo.RejectionReasonOverload
}
