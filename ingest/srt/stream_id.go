package srt

import (
	"fmt"
	"strings"
)

// maxStreamIDLen is the longest stream ID libsrt carries (SRTO_STREAMID,
// 512 bytes).
const maxStreamIDLen = 512

// accessControlPrefix starts a stream ID in the SRT access-control syntax
// (SRT draft, section "Stream ID": "#!::key=value,key=value").
const accessControlPrefix = "#!::"

// mode is what a caller asks to do.
type mode int

// Modes of a stream ID. modeAny is a bare stream ID: the role follows from
// which credential it is.
const (
	modeAny mode = iota
	modePublish
	modeRequest
)

// String names the mode as the access-control syntax does.
func (m mode) String() string {
	switch m {
	case modePublish:
		return "publish"
	case modeRequest:
		return "request"
	}

	return "any"
}

// streamID is a parsed caller stream ID.
type streamID struct {
	// Resource is the credential: the input's SRT stream ID or playback ID.
	Resource string
	// Mode is the role asked for.
	Mode mode
}

// parseStreamID reads a bare stream ID or the access-control form
// "#!::r=<id>,m=publish|request" (keys in any order, unknown keys ignored;
// m defaults to request, as the SRT draft says).
func parseStreamID(s string) (streamID, error) {
	if len(s) > maxStreamIDLen {
		return streamID{}, fmt.Errorf("%w: %d bytes, at most %d", errStreamIDTooLong,
			len(s), maxStreamIDLen)
	}

	if s == "" {
		return streamID{}, errEmptyStreamID
	}

	body, ok := strings.CutPrefix(s, accessControlPrefix)
	if !ok {
		return streamID{Resource: s, Mode: modeAny}, nil
	}

	id := streamID{Mode: modeRequest}
	haveResource := false

	for field := range strings.SplitSeq(body, ",") {
		key, value, _ := strings.Cut(field, "=")

		switch key {
		case "r":
			id.Resource = value
			haveResource = value != ""

		case "m":
			m, err := parseMode(value)
			if err != nil {
				return streamID{}, err
			}

			id.Mode = m
		}
	}

	if !haveResource {
		return streamID{}, errNoResource
	}

	return id, nil
}

// parseMode reads the value of an m= key.
func parseMode(v string) (mode, error) {
	switch v {
	case "publish":
		return modePublish, nil

	case "request":
		return modeRequest, nil
	}

	if len(v) > 32 {
		v = v[:32]
	}

	return 0, fmt.Errorf("%w: %q", errBadMode, v)
}
