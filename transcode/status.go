package transcode

import "time"

// Status is a snapshot of a pipeline, for the API and metrics.
// The JSON names are those the API shows under a live input's "transcode".
type Status struct {
	Encoder string       `json:"encoder"` // video encoder in use, "h264_nvenc"
	Level   int          `json:"level"`   // adaptation level, 0 at full quality
	Rungs   []RungStatus `json:"rungs"`   // from the top down

	// Fallback says why the input moved from a hardware encoder to libx264
	// mid-broadcast; empty when it did not.
	Fallback string `json:"fallback,omitempty"`
}

// RungStatus is the state of one rung.
type RungStatus struct {
	Name    string `json:"name"`
	Width   int    `json:"width"`
	Height  int    `json:"height"`
	Bitrate int    `json:"bitrate"`
	Preset  string `json:"preset"`
	Encoder string `json:"encoder"` // the encoder the rung's pictures come from
	Active  bool   `json:"active"`  // being encoded; false when dropped to keep up
	Frames  int64  `json:"frames"`  // pictures encoded

	// Lag is from a unit's arrival at the hub to its picture encoded.
	Lag time.Duration `json:"-"`

	// LagMillis is Lag in milliseconds, for JSON.
	LagMillis int64 `json:"lagMs"`
}
