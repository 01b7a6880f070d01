package stream

import "errors"

// ErrBusy is returned by Hub.Claim when the input already has a publisher.
var ErrBusy = errors.New("live input already has a publisher")

// ErrEnded is the reason a Reader reports when its broadcast ended normally.
var ErrEnded = errors.New("broadcast ended")

// ErrSlowReader is the reason a Reader reports when it fell so far behind that
// the broadcast dropped it rather than hold memory or slow the publisher.
var ErrSlowReader = errors.New("reader too slow, dropped")

// ErrNotLive is returned by Hub.Subscribe when no broadcast is running.
var ErrNotLive = errors.New("live input is not live")

// errReaderClosed is the reason a Reader reports after its own Close.
var errReaderClosed = errors.New("reader closed")

// AuthReason says why a credential was refused.
type AuthReason int

// Reasons a publisher or player is refused.
const (
	AuthUnknownKey AuthReason = iota + 1 // no input has this credential
	AuthDisabled                         // the input has enabled: false
)

// AuthError is returned by a Directory when a credential is refused. Callers
// branch on Reason to pick a protocol's reject code.
type AuthError struct {
	Reason   AuthReason
	InputUID string // empty for AuthUnknownKey
}

func (e *AuthError) Error() string {
	switch e.Reason {
	case AuthDisabled:
		return "live input " + e.InputUID + " is disabled"
	default:
		return "unknown stream key"
	}
}
