package restream

import "time"

// States of an output, as the API reports them.
const (
	// StateConnected: the destination is receiving the input.
	StateConnected = "connected"

	// StateReconnecting: a connection is being opened, first or after one
	// was lost.
	StateReconnecting = "reconnecting"

	// StateDisconnected: the input is not live, or the output is disabled.
	StateDisconnected = "disconnected"

	// StateError: the last attempt failed; another follows after a backoff.
	StateError = "error"
)

// Status is an output's live state.
type Status struct {
	State  string    // one of the State constants
	Reason string    // why, in words; never a key
	Since  time.Time // when State was entered, UTC

	// DroppedUnits counts the access units the output let go because the
	// destination took them slower than the input sent them.
	DroppedUnits int64
}
