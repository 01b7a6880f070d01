// Package rtmp is onair's RTMP and RTMPS ingest: it accepts encoders that
// publish to rtmp://HOST:PORT/live/<streamKey>, authenticates them through a
// stream.Directory, demuxes their FLV tags into tracks and access units, and
// produces them into the live input's stream.Hub.
//
// The chunk layer is github.com/yutopp/go-rtmp; FLV tag parsing (Adobe Flash
// Video File Format Specification 10.1, annex E, and the enhanced RTMP
// extension) is this package's own.
package rtmp
