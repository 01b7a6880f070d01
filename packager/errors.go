package packager

import "errors"

// ErrNotFound is returned by the read methods of Presentation and by a Store
// when the named rendition, init segment or media segment does not exist (or
// no longer does: old segments leave the store as the live window moves).
var ErrNotFound = errors.New("not found")

// ErrStarted is returned by Presentation.Start when it is called twice.
var ErrStarted = errors.New("presentation already started")

// ErrNoTracks is returned by Presentation.Start when no track can be packaged.
var ErrNoTracks = errors.New("no H.264 or AAC track to package")

// ErrTooFarAhead is returned by Presentation.AwaitPart and Presentation.Serve
// when a blocking playlist reload asks for a segment or part too far past the
// live edge to wait for (RFC 8216bis 6.2.5.2: answer 400).
var ErrTooFarAhead = errors.New("blocking reload too far ahead of the live edge")
