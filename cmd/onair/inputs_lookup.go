package main

import (
	"context"

	"github.com/onair/onair/ingest/stream"
	"github.com/onair/onair/store"
)

// publishInput finds the live input a publish credential opens: an SRT
// stream ID for protocol "srt", an RTMP stream key otherwise.
func (in *inputs) publishInput(protocol, key string) (*store.LiveInput, error) {
	if protocol == "srt" {
		return in.store.LiveInputBySRTStreamID(context.Background(), key)
	}

	return in.store.LiveInputByStreamKey(context.Background(), key)
}

// playbackInput finds the live input a playback credential opens.
func (in *inputs) playbackInput(protocol, key string) (*store.LiveInput, error) {
	if protocol == "srt" {
		return in.store.LiveInputBySRTPlaybackStreamID(context.Background(), key)
	}

	return in.store.LiveInputByPlaybackKey(context.Background(), key)
}

// srtSecret is the passphrase to hand an SRT server; other protocols get none.
func srtSecret(protocol, passphrase string) stream.Secret {
	if protocol != "srt" {
		return ""
	}

	return stream.Secret(passphrase)
}
