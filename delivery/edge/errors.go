package edge

import "errors"

// Errors of Start.
var (
	// ErrNoOrigin is returned by Start when Origins is empty.
	ErrNoOrigin = errors.New("edge: no origin configured")

	// ErrStarted is returned by Start when the cache is already started.
	ErrStarted = errors.New("edge: already started")

	// ErrBadOrigin is returned by Start for an origin URL that is not an
	// absolute http or https URL.
	ErrBadOrigin = errors.New("edge: origin is not an http or https URL with a host")
)

// errTimeout marks an origin that did not answer within the edge's timeout.
var errTimeout = errors.New("origin timed out")
