// Package samples finds the real sample clips that tests and benchmarks use:
// ../shared/media beside the repository, as on every developer machine and in
// CI, or the folder named by ONAIR_MEDIA.
package samples

import (
	"os"
	"path/filepath"
)

// envDir names a folder of clips that takes the place of ../shared/media.
const envDir = "ONAIR_MEDIA"

// Path returns where the clip of that name should be. The file may be
// missing: callers then make a clip of their own with ffmpeg.
func Path(name string) string {
	return filepath.Join(Dir(), name)
}

// Dir returns the folder of sample clips: $ONAIR_MEDIA, or shared/media beside
// the directory that holds go.mod, found by walking up from the working
// directory.
func Dir() string {
	if d := os.Getenv(envDir); d != "" {
		return d
	}

	dir, err := os.Getwd()
	if err != nil {
		return filepath.Join("..", "shared", "media")
	}

	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared", "media")
		}

		parent := filepath.Dir(dir)
		if parent == dir {
			return filepath.Join("..", "shared", "media")
		}

		dir = parent
	}
}
