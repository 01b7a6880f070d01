package main

import (
	"errors"

	"github.com/onair/onair/api"
	"github.com/onair/onair/transcode"
)

// liveEvents hears about a live input's broadcasts starting, ending and being
// refused; *api.WebhookSender is one. Calls queue and return at once.
type liveEvents interface {
	Connected(uid string)
	Disconnected(uid string)
	Errored(uid, code, message string)
}

// errorCode is the live_input.errored code of a broadcast refused with err,
// and whether it has one.
func errorCode(err error) (string, bool) {
	var codec *transcode.UnsupportedCodecError

	switch {
	case errors.As(err, &codec) && codec.Video:
		return api.ErrCodeVideoCodec, true
	case errors.As(err, &codec):
		return api.ErrCodeAudioCodec, true
	}

	return "", false
}

// refused tells events about a broadcast onair could not take.
func (in *inputs) refused(uid string, err error) {
	if code, ok := errorCode(err); ok && in.events != nil {
		in.events.Errored(uid, code, err.Error())
	}
}

// connected tells events that a broadcast began.
func (in *inputs) connected(uid string) {
	if in.events != nil {
		in.events.Connected(uid)
	}
}

// disconnected tells events that a broadcast ended.
func (in *inputs) disconnected(uid string) {
	if in.events != nil {
		in.events.Disconnected(uid)
	}
}
