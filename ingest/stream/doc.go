// Package stream is the common language of onair's media path: tracks, access
// units with timestamps, and the per-input hub that fans a broadcast out to its
// readers (transcoder, restream outputs, playback over RTMP and SRT).
//
// Ingest servers (RTMP, SRT) produce into a Hub; everything downstream reads
// from a Broadcast through a Reader. The package knows nothing of cgo or HTTP.
package stream
