package restream

import "errors"

// errBroadcastEnded stops an output's connection when the input stops being
// live.
var errBroadcastEnded = errors.New("live input is not live")

// errDisabled stops an output that was disabled, deleted or shut down.
var errDisabled = errors.New("output stopped")

// errSetupTimeout is the reason of a destination that did not finish the
// handshake and the publish commands within setupTimeout.
var errSetupTimeout = errors.New("destination did not answer in time")

// errNoTracks refuses a broadcast with no track the protocol can carry.
var errNoTracks = errors.New("broadcast has no track the destination's protocol carries")
