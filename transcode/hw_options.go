package transcode

// The option tables of the hardware encoders. Each table is passed to the
// encoder as AVOptions when it opens (after the rung's bitrate, GOP and frame
// rate are set on the codec context), and TestHardwareOptionTables checks
// every key and value against the encoder's own AVOption list.
//
// What every backend is asked for, as the libx264 ladder does: constant frame
// rate (the codec context's frame rate and a 90 kHz time base), no B-frames
// (so that DTS equals PTS, as LL-HLS parts want), closed GOPs started only by
// the pipeline's forced keyframes (coded as IDR pictures, no scene-cut or
// adaptive I-frames), constant bitrate at the rung's bitrate with a one-second
// VBV buffer, and the encoder's low-latency mode.

// nvencOptions configures h264_nvenc (FFmpeg 5.1 option names).
var nvencOptions = map[string]string{
	"tune":         "ll",   // low-latency tuning of the p1..p7 presets
	"rc":           "cbr",  // constant bitrate: b = maxrate, bufsize one second
	"zerolatency":  "1",    // no reordering delay
	"delay":        "0",    // hand each picture out as soon as it is coded
	"rc-lookahead": "0",    // no lookahead queue
	"bf":           "0",    // no B-frames
	"forced-idr":   "1",    // forced keyframes become IDR pictures
	"strict_gop":   "1",    // keep the rate steady from GOP to GOP
	"no-scenecut":  "1",    // only forced keyframes start GOPs
	"profile":      "high", // the same profile as the libx264 ladder
	"aud":          "0",    // access unit delimiters are stripped anyway
}

// nvencPresets maps the ladder's x264 presets, which adaptation moves along,
// to NVENC's p1 (fastest) to p7 presets.
var nvencPresets = map[string]string{
	"veryfast": "p4", "faster": "p4", "superfast": "p3", "ultrafast": "p2",
	"fast": "p5", "medium": "p5",
}

// qsvOptions configures h264_qsv.
var qsvOptions = map[string]string{
	"look_ahead":    "0", // lookahead VBR delays output
	"bf":            "0",
	"forced_idr":    "1",
	"adaptive_i":    "0", // no scene-cut I-frames
	"adaptive_b":    "0",
	"low_delay_brc": "1", // keep each frame near its share of the bitrate
	"async_depth":   "1", // one picture in flight: lowest latency
	"profile":       "high",
}

// qsvPresets maps the ladder's presets to Quick Sync's target usages.
var qsvPresets = map[string]string{
	"veryfast": "veryfast", "faster": "faster", "superfast": "veryfast",
	"ultrafast": "veryfast", "fast": "fast", "medium": "medium",
}

// vaapiOptions configures h264_vaapi.
var vaapiOptions = map[string]string{
	"rc_mode":      "CBR",
	"bf":           "0",
	"idr_interval": "0", // every I-frame (all of them forced) is an IDR
	"async_depth":  "1",
	"profile":      "high",
	"aud":          "0",
}

// vaapiPresets maps the ladder's presets to VA-API's quality levels (higher
// is faster; the meaning is the driver's).
var vaapiPresets = map[string]string{
	"veryfast": "4", "faster": "4", "superfast": "6", "ultrafast": "7",
	"fast": "2", "medium": "2",
}
