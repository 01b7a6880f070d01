package recording

import (
	"bytes"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/onair/onair/packager"
	"github.com/onair/onair/packager/packagertest"
)

const video = "0123456789abcdef0123456789abcdef"

// fullStorage is a Dir that refuses writes with ENOSPC once it holds limit
// bytes, the way a full disk does.
type fullStorage struct {
	Dir
	mu      sync.Mutex
	written int
	limit   int
}

func (f *fullStorage) take(n int) error {
	f.mu.Lock()
	defer f.mu.Unlock()

	if f.written+n > f.limit {
		return &os.PathError{Op: "write", Path: "x", Err: syscall.ENOSPC}
	}

	f.written += n

	return nil
}

func (f *fullStorage) Write(name string, data []byte) error {
	if err := f.take(len(data)); err != nil {
		return err
	}

	return f.Dir.Write(name, data)
}

func (f *fullStorage) Append(name string, data []byte) error {
	if err := f.take(len(data)); err != nil {
		return err
	}

	return f.Dir.Append(name, data)
}

// record packages m with a Writer on storage and returns the writer, closed.
func record(t *testing.T, m *packagertest.Media, storage Storage) *Writer {
	t.Helper()

	w := &Writer{Storage: storage, Video: video}

	var full error
	w.OnFull = func(err error) { full = err }

	if err := w.Start(); err != nil {
		t.Fatal(err)
	}

	p := &packager.Presentation{SegmentDuration: time.Second, Window: 2, Recorder: w}
	if err := p.Start(m.Tracks); err != nil {
		t.Fatal(err)
	}

	for _, u := range m.Units {
		p.Write(u)
	}

	p.End()
	w.Close()

	if !errors.Is(full, w.Err()) {
		t.Errorf("OnFull got %v, Err says %v", full, w.Err())
	}

	return w
}

// serve answers a presentation's URIs over HTTP, the way delivery does.
func serve(t *testing.T, p *packager.Presentation) string {
	t.Helper()

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, err := p.Open(strings.TrimPrefix(r.URL.Path, "/"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)

			return
		}

		w.Write(res.Data)
	}))
	t.Cleanup(srv.Close)

	return srv.URL + "/"
}

// playedSeconds has ffmpeg decode url whole and returns the duration ffprobe
// reads.
func playedSeconds(t *testing.T, url string) float64 {
	t.Helper()

	out, err := exec.Command("ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-xerror",
		"-i", url, "-map", "0", "-f", "null", "-").CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg could not decode %s: %v\n%s", url, err, out)
	}

	out, err = exec.Command("ffprobe", "-v", "error", "-show_entries", "format=duration",
		"-of", "default=nw=1:nk=1", url).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", url, err)
	}

	d, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	if err != nil {
		t.Fatalf("ffprobe duration of %s: %q", url, out)
	}

	return d
}

func TestWriterRecords(t *testing.T) {
	const clip = 5 * time.Second

	m := packagertest.Make(t, packagertest.Options{Audio: true, Duration: clip,
		KeyInterval: time.Second, Rungs: []packagertest.Rung{
			{Name: "180p", Width: 320, Height: 180, Bitrate: 300_000},
			{Name: "90p", Width: 160, Height: 90, Bitrate: 100_000}}})

	dir := &Dir{Root: t.TempDir()}

	// The full storage takes about half the broadcast.
	tests := []struct {
		name    string
		storage Storage
		full    bool
	}{
		{"disk", dir, false},
		{"full", &fullStorage{Dir: Dir{Root: t.TempDir()}, limit: 60_000}, true},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := record(t, m, tt.storage)

			if got := errors.Is(w.Err(), ErrStorageFull); got != tt.full {
				t.Fatalf("writer error %v, want storage full %v", w.Err(), tt.full)
			}

			x, err := Load(tt.storage, video)
			if err != nil {
				t.Fatal(err)
			}

			if got := w.Index().Duration(); math.Abs(got-x.Duration()) > 1e-9 {
				t.Errorf("writer says %.3f s, the index on disk %.3f s", got, x.Duration())
			}

			if w, h := x.Size(); w != 320 || h != 180 {
				t.Errorf("recorded size %dx%d, want the top rung's 320x180", w, h)
			}

			size, err := tt.storage.Size(video)
			if err != nil || size == 0 {
				t.Errorf("storage holds %d bytes (%v)", size, err)
			}

			want := clip.Seconds()
			if tt.full {
				want = x.Duration()
				if want <= 0 || want >= clip.Seconds()-1 {
					t.Errorf("full storage kept %.3f s of %v", want, clip)
				}
			} else if math.Abs(x.Duration()-want) > 1 {
				t.Errorf("recorded %.3f s of a %v broadcast", x.Duration(), clip)
			}

			p, err := Presentation(tt.storage, video)
			if err != nil {
				t.Fatal(err)
			}

			if got := playedSeconds(t, serve(t, p)+"video.m3u8"); math.Abs(got-want) > 1 {
				t.Errorf("recording plays %.3f s, want %.3f s", got, want)
			}
		})
	}
}

// TestLoadAfterCrash cuts the index as a crash in the middle of a line
// would: the segments listed whole before it still play.
func TestLoadAfterCrash(t *testing.T) {
	m := packagertest.Make(t, packagertest.Options{Audio: true, Duration: 4 * time.Second,
		KeyInterval: time.Second, Rungs: []packagertest.Rung{
			{Name: "90p", Width: 160, Height: 90, Bitrate: 100_000}}})

	dir := &Dir{Root: t.TempDir()}
	record(t, m, dir)

	path := filepath.Join(dir.Root, video, indexName)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	lines := bytes.Count(data, []byte("\n"))
	cut := data[:len(data)-10]
	if err := os.WriteFile(path, cut, 0o640); err != nil {
		t.Fatal(err)
	}

	x, err := Load(dir, video)
	if err != nil {
		t.Fatal(err)
	}

	var listed int
	for _, r := range x.Renditions {
		listed += 1 + len(r.Segments)
	}

	if listed != lines-1 {
		t.Errorf("index of %d lines cut in the last: %d listed, want %d", lines, listed, lines-1)
	}

	p, err := Presentation(dir, video)
	if err != nil {
		t.Fatal(err)
	}

	if d := playedSeconds(t, serve(t, p)+"video.mpd"); d <= 0 {
		t.Errorf("recording after a crash plays %.3f s", d)
	}
}

func TestDirRefusesEscapes(t *testing.T) {
	d := &Dir{Root: t.TempDir()}

	for _, name := range []string{"../x", "/abs", "a/../../b", ""} {
		if err := d.Write(name, []byte("x")); err == nil {
			t.Errorf("Write(%q) succeeded", name)
		}
	}

	if err := d.RemoveAll("missing"); err != nil {
		t.Errorf("RemoveAll of nothing: %v", err)
	}

	if n, err := d.Size("missing"); n != 0 || err != nil {
		t.Errorf("Size of nothing: %d, %v", n, err)
	}

	if _, err := d.Read("missing"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Read of nothing: %v", err)
	}

}

// TestWriteMP4 remuxes a recording into one progressive MP4 that ffprobe
// reads moov first, with the top rung and the audio, for the whole broadcast.
func TestWriteMP4(t *testing.T) {
	const clip = 4 * time.Second

	m := packagertest.Make(t, packagertest.Options{Audio: true, Duration: clip,
		KeyInterval: time.Second, Rungs: []packagertest.Rung{
			{Name: "180p", Width: 320, Height: 180, Bitrate: 300_000},
			{Name: "90p", Width: 160, Height: 90, Bitrate: 100_000}}})

	dir := &Dir{Root: t.TempDir()}
	record(t, m, dir)

	path := filepath.Join(t.TempDir(), "default.mp4")

	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}

	err = WriteMP4(f, dir, video)
	f.Close()

	if err != nil {
		t.Fatal(err)
	}

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	moov, mdat := bytes.Index(data, []byte("moov")), bytes.Index(data, []byte("mdat"))
	if moov < 0 || mdat < 0 || moov > mdat {
		t.Errorf("moov at %d, mdat at %d: want moov first", moov, mdat)
	}

	out, err := exec.Command("ffprobe", "-v", "error", "-show_entries",
		"stream=codec_name,width,height", "-of", "csv=p=0", path).Output()
	if err != nil {
		t.Fatal(err)
	}

	if got := strings.TrimSpace(string(out)); got != "h264,320,180\naac" {
		t.Errorf("ffprobe streams:\n%s\nwant h264 320x180 and aac", got)
	}

	if d := playedSeconds(t, path); math.Abs(d-clip.Seconds()) > 0.5 {
		t.Errorf("MP4 plays %.3f s of a %v broadcast", d, clip)
	}

	if err := WriteMP4(io.Discard, dir, "missing"); err == nil {
		t.Error("MP4 of a missing video written")
	}
}
