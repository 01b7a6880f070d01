package main

import (
	"fmt"
	"log/slog"

	"github.com/onair/onair/transcode"
)

// probeHWAccel picks the video encoder for --hwaccel at start: it logs one
// Info line naming the encoder and, when hardware encoders were tried, why
// each failed. An explicit choice that does not work is an error.
func probeHWAccel(hwaccel string, log *slog.Logger) (string, error) {
	res, err := transcode.ProbeEncoders(hwaccel)
	if err != nil {
		return "", fmt.Errorf("video encoder: %w", err)
	}

	attrs := []any{"hwaccel", hwaccel, "encoder", res.Encoder}
	if len(res.Tried) > 0 {
		attrs = append(attrs, "tried", res.Reasons())
	}

	log.Info("video encoder chosen", attrs...)

	return res.Encoder, nil
}
