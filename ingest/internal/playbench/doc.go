// Package playbench measures the delay that onair's live playback adds: a
// publisher pushes H.264 and AAC frames at real-time pace into the RTMP
// ingest, readers play them back over RTMP, RTMPS and SRT, and the time from
// a frame's last byte written to its last byte read is compared with the
// same bytes relayed over plain loopback TCP.
//
// The package holds only a benchmark; run it with
//
//	go test -run '^$' -bench PlaybackDelay -benchtime 1x ./ingest/internal/playbench
package playbench
