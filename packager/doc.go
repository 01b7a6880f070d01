// Package packager cuts a broadcast's renditions into CMAF (fragmented MP4)
// segments, keeps an index of them and writes the HLS playlists that point at
// them. One set of segment bytes is meant to serve HLS, LL-HLS, DASH and the
// recording, so the index is onair's own rather than a muxer's.
//
// A Presentation receives the transcoder's renditions (H.264 video rungs and
// one AAC audio track), cuts every rendition at the same keyframe times and
// stores segments in a Store. Delivery reads playlists, init segments and
// media segments back through its read methods.
package packager
