package transcode

import "time"

// Status is a snapshot of a pipeline, for the API and metrics.
type Status struct {
	Encoder string       // video encoder name, "libx264"
	Level   int          // adaptation level, 0 at full quality
	Rungs   []RungStatus // from the top down
}

// RungStatus is the state of one rung.
type RungStatus struct {
	Name          string
	Width, Height int
	Bitrate       int
	Preset        string
	Active        bool          // being encoded; false when dropped to keep up
	Frames        int64         // pictures encoded
	Lag           time.Duration // from a unit's arrival to its picture encoded
}
