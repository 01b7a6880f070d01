package store

import "errors"

// ErrNotFound is returned when no live input has the uid or credential asked for.
var ErrNotFound = errors.New("not found")

// ErrInvalidState is returned by SetLiveInputStatus for a state that is not
// one of the State constants.
var ErrInvalidState = errors.New("invalid live input state")
