package rtmp

import "errors"

// ErrConnectionLost is the reason a broadcast ends with when the publisher's
// connection broke without a deleteStream; it wraps the cause.
var ErrConnectionLost = errors.New("rtmp connection lost")

// ErrServerClosed is the reason given to publishers cut off by Server.Close.
var ErrServerClosed = errors.New("rtmp server closed")

// errAlreadyPublishing refuses a second publish on one connection.
var errAlreadyPublishing = errors.New("connection is already publishing")

// errShortTag is returned for an FLV tag too short for its header.
var errShortTag = errors.New("flv tag too short")

// errNoParameterSets is returned for a record without an SPS or a PPS.
var errNoParameterSets = errors.New("avc decoder configuration has no sps or no pps")

// errNoNALU is returned for a video frame that holds no NAL unit.
var errNoNALU = errors.New("video frame has no nalu")

// errEmptyAudio is returned for an audio frame without payload.
var errEmptyAudio = errors.New("audio frame is empty")
