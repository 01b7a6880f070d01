package delivery

import (
	"context"
	"errors"
	"net/http"
	"os"
)

// ErrNoDownload is returned by Downloads.Download for an id that has no
// download: no such video, or one still being recorded.
var ErrNoDownload = errors.New("no download for this id")

// downloadName is the one file name under /{id}/downloads/.
const downloadName = "default.mp4"

// Downloads finds the MP4 file of a recorded video.
type Downloads interface {
	// Download returns the MP4 file of the video id, open for reading, or an
	// error wrapping ErrNoDownload.
	Download(ctx context.Context, id string) (*os.File, error)
}

// download serves /{id}/downloads/default.mp4, with Range requests.
func (h *handler) download(w http.ResponseWriter, r *http.Request) {
	if h.downloads == nil || r.PathValue("file") != downloadName {
		fail(w, http.StatusNotFound, "not found")

		return
	}

	id, ok := h.guard.Check(w, r, r.PathValue("id"))
	if !ok {
		return
	}

	f, err := h.downloads.Download(r.Context(), id)
	if errors.Is(err, ErrNoDownload) {
		fail(w, http.StatusNotFound, "no download for this id")

		return
	}

	if err != nil {
		h.log.Warn("download failed", "id", id, "error", err)
		fail(w, http.StatusInternalServerError, "cannot make this download")

		return
	}
	defer f.Close()

	info, err := f.Stat()
	if err != nil {
		fail(w, http.StatusInternalServerError, "cannot read this download")

		return
	}

	hdr := w.Header()
	hdr.Set("Content-Type", "video/mp4")
	hdr.Set("Content-Disposition", `attachment; filename="`+downloadName+`"`)
	hdr.Set("Cache-Control", "public, max-age=3600")

	http.ServeContent(w, r, "", info.ModTime(), f)
}
