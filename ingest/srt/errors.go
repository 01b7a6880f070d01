package srt

import (
	"errors"
	"time"
)

// ErrServerClosed is the reason given to publishers cut off by Server.Close.
var ErrServerClosed = errors.New("srt server closed")

// ErrConnectionLost is the reason a broadcast ends with when the publisher's
// SRT connection broke or timed out; it wraps the cause.
var ErrConnectionLost = errors.New("srt connection lost")

// errEmptyStreamID is returned for a caller without a stream ID.
var errEmptyStreamID = errors.New("stream id is empty")

// errStreamIDTooLong is returned for a stream ID over maxStreamIDLen bytes.
var errStreamIDTooLong = errors.New("stream id is too long")

// errNoResource is returned for an access-control stream ID without r=.
var errNoResource = errors.New("stream id has no r= key")

// errBadMode is returned for an access-control m= other than publish or
// request.
var errBadMode = errors.New("stream id mode is not publish or request")

// errNoTracks ends a publication whose programme has no track onair carries.
var errNoTracks = errors.New("mpeg-ts programme has no supported track")

// errPublisherEnded is why a connection closed when its caller closed it.
var errPublisherEnded = errors.New("publisher ended the stream")

// closedWithin is how soon after its last data a connection must break to
// count as closed by its caller: libsrt declares a silent link broken only
// after its peer idle timeout (5 s by default).
const closedWithin = 2500 * time.Millisecond
