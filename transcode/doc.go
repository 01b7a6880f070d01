// Package transcode turns one live input into onair's adaptive-bitrate ladder.
//
// A Pipeline reads a broadcast's source units (H.264 video, AAC audio) from a
// stream.Reader, decodes each source track once, scales the pictures to every
// rung of the ladder with swscale and encodes each rung on its own goroutine.
// Keyframes are forced on the same source pictures in every rung (the first
// picture at or past each multiple of SegmentDuration), so that segments of
// all renditions start at the same presentation time. Audio is decoded once,
// resampled to 48 kHz stereo and encoded once as AAC-LC at 128 kb/s, shared by
// all rungs.
//
// # Ladder
//
// The rungs are 1080p, 720p, 480p and 360p, never above the source height; a
// source below 360 lines gets one rung at its own size. Widths follow the
// source aspect ratio, rounded to an even number. The frame rate is the
// source's, capped at 60. Video bitrates, for frame rates up to 30 fps:
//
//	1080p  5000 kb/s
//	720p   2800 kb/s
//	480p   1400 kb/s
//	360p    800 kb/s
//	<360p   500 kb/s
//
// Above 30 fps each is multiplied by 1.5. Rate control is capped VBR: maxrate
// equals the bitrate and the VBV buffer holds one second.
//
// # Encoders
//
// Encoders are chosen by name through LookupEncoder; "libx264" (preset
// veryfast, tune zerolatency, profile high) is the software floor. Parameters
// that change the picture parameter set (CABAC, 8x8 transform, weighted
// prediction) are pinned so that every preset produces the same SPS and PPS,
// and the output tracks' parameter sets stay valid when presets change.
//
// # Keeping up
//
// Each rung reports its lag: the wall time between a source unit's arrival and
// the end of encoding its picture. A Controller turns the worst lag into a
// level: levels 1 and 2 switch every rung to superfast then ultrafast, and each
// level above drops the top remaining rung (never the last). Levels go back
// down, restoring rungs first and then presets, once lag has stayed low for a
// while. Changes take effect on the next forced keyframe.
//
// # Timestamps
//
// Output timestamps start at 0 on the first video keyframe (or the first audio
// frame of an audio-only source); units before the first keyframe are dropped.
// The AAC encoder's 1024-sample priming frame is placed at 0, so audio runs
// 21.3 ms late, well under what viewers notice.
package transcode
