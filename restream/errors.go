package restream

import "errors"

// errBroadcastEnded stops an output's connection when the input stops being
// live.
var errBroadcastEnded = errors.New("live input is not live")

// errOutputRemoved stops an output that was disabled or deleted.
var errOutputRemoved = errors.New("output disabled or deleted")

// errInputDeleted stops the outputs of a deleted live input.
var errInputDeleted = errors.New("live input deleted")

// errStopped stops every output when the manager closes.
var errStopped = errors.New("restream stopped")

// errSetupTimeout is the reason of a destination that did not finish the
// handshake and the publish commands within setupTimeout.
var errSetupTimeout = errors.New("destination did not answer in time")

// errNoTracks refuses a broadcast with no track the protocol can carry.
var errNoTracks = errors.New("broadcast has no track the destination's protocol carries")
