// Package analytics turns playback requests into viewer sessions and
// per-minute rows of minutes viewed and views, per video or live input,
// creator and country. A Collector keeps the sessions and the open minutes in
// memory and hands finished counts to a Sink in bounded batches on its own
// goroutine, so that a request never waits on storage.
package analytics
