// Package restream pushes live inputs to other platforms (simulcast): each
// enabled output of a live input receives the source's access units as they
// arrive, without re-encoding, over RTMP, RTMPS or SRT (caller mode).
//
// An output starts at a video keyframe with timestamps rebased near zero,
// retries a destination that refuses, stalls, closes or cannot be reached
// with capped exponential backoff while the input is live, and reads the
// input's hub through a bounded queue that drops to the next keyframe when
// the destination is slower than the source, so that a slow destination
// costs only itself.
//
// The FLV tags come from ingest/rtmp and the MPEG-TS from ingest/srt, the
// same writers that serve RTMP and SRT playback; the RTMP chunk layer and
// handshake are github.com/yutopp/go-rtmp and SRT is libsrt through srtgo.
package restream
