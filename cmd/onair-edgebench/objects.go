package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// Paths the objects are served under, by nginx and by the edge alike: the
// shape of onair's playback URLs.
const (
	segmentPath  = "/in1/manifest/360p/s0123/seg_1.m4s"
	playlistPath = "/in1/manifest/360p/index.m3u8"
)

// Headers onair's origin sends for them.
const (
	segmentCache  = "public, max-age=86400, immutable"
	playlistCache = "max-age=1"
	segmentType   = "video/mp4"
	playlistType  = "application/vnd.apple.mpegurl"
)

// playlistSize is the size the playlist is grown to.
const playlistSize = 2048

// makeSegment encodes a ~1 MB CMAF media segment (4 s of 720p at 2 Mb/s)
// from clip, or from testsrc2 when clip is missing, in dir.
func makeSegment(dir, clip string) ([]byte, error) {
	input := []string{"-i", clip}
	if _, err := os.Stat(clip); err != nil {
		input = []string{"-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=25"}
	}

	args := append([]string{"-v", "error", "-y"}, input...)
	args = append(args, "-t", "4", "-an", "-c:v", "libx264", "-preset", "ultrafast",
		"-b:v", "2M", "-maxrate", "2M", "-bufsize", "1M", "-g", "100",
		"-f", "hls", "-hls_time", "4", "-hls_segment_type", "fmp4", "-hls_playlist_type", "vod",
		"-hls_segment_filename", filepath.Join(dir, "enc_%d.m4s"), filepath.Join(dir, "enc.m3u8"))

	cmd := exec.Command("ffmpeg", args...)

	var stderr bytes.Buffer
	cmd.Stderr = &stderr

	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("ffmpeg: %w: %s", err, stderr.Bytes())
	}

	return os.ReadFile(filepath.Join(dir, "enc_0.m4s"))
}

// makePlaylist returns a live media playlist of about playlistSize bytes.
func makePlaylist() []byte {
	var b bytes.Buffer

	b.WriteString("#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:2\n" +
		"#EXT-X-MEDIA-SEQUENCE:1000\n#EXT-X-INDEPENDENT-SEGMENTS\n" +
		"#EXT-X-MAP:URI=\"s0123/init.mp4\"\n" +
		"#EXT-X-PROGRAM-DATE-TIME:2025-01-01T00:00:00.000Z\n")

	for seq := 1000; b.Len() < playlistSize; seq++ {
		fmt.Fprintf(&b, "#EXTINF:2.00000,\ns0123/seg_%d.m4s\n", seq)
	}

	return b.Bytes()
}

// writeTree writes the objects under root at their paths, for nginx.
func writeTree(root string, objects map[string][]byte) error {
	for p, data := range objects {
		name := filepath.Join(root, filepath.FromSlash(p))

		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			return err
		}

		if err := os.WriteFile(name, data, 0o644); err != nil {
			return err
		}
	}

	return nil
}
