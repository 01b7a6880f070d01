package recording

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"syscall"

	"github.com/onair/onair/packager"
)

// queueLength is how many files the writer may fall behind the packager
// before the packager waits for it: about a minute of a four-rendition
// ladder cut in 2 s segments.
const queueLength = 128

// Writer records one video: it implements packager.Recorder, writes each
// file and then its index line from its own goroutine, so that the packager
// never waits for the disk. Fill the fields, call Start, hand it to the
// presentation and Close it after the presentation ended.
type Writer struct {
	// Storage keeps the files. Required.
	Storage Storage

	// Video is the video's uid, the prefix of its files. Required.
	Video string

	// Log receives the writer's lines; nil discards them.
	Log *slog.Logger

	// OnFull, when set, is called once, from the writer's goroutine, when
	// the storage runs out of space. Nothing more is recorded afterwards.
	OnFull func(err error)

	jobs chan job
	done chan struct{}

	mu    sync.Mutex
	err   error
	index Index
	names map[string]int
	bytes int64
}

// job is one file to write and the index line that lists it.
type job struct {
	file string
	data []byte
	line entry
}

// Start starts the writer's goroutine.
func (w *Writer) Start() error {
	if w.Storage == nil || w.Video == "" {
		return errors.New("recording writer needs a storage and a video uid")
	}

	if w.Log == nil {
		w.Log = slog.New(slog.DiscardHandler)
	}

	w.jobs = make(chan job, queueLength)
	w.done = make(chan struct{})
	w.names = map[string]int{}

	go w.run()

	return nil
}

// RecordInit implements packager.Recorder.
func (w *Writer) RecordInit(info packager.RenditionInfo, init []byte) {
	w.jobs <- job{file: fileName(w.Video, info.Name, info.Session, initName), data: init,
		line: entry{Init: &info}}
}

// RecordSegment implements packager.Recorder.
func (w *Writer) RecordSegment(rendition string, seg packager.SegmentInfo, data []byte) {
	file := "seg_" + strconv.FormatUint(seg.Seq, 10) + ".m4s"
	w.jobs <- job{file: fileName(w.Video, rendition, seg.Session, file), data: data,
		line: entry{Rendition: rendition, Segment: &seg}}
}

// Close writes what is queued and stops the goroutine. The presentation must
// not call the writer afterwards.
func (w *Writer) Close() {
	close(w.jobs)
	<-w.done
}

// Err returns why the writer stopped recording, or nil.
func (w *Writer) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()

	return w.err
}

// Index returns what has been written so far.
func (w *Writer) Index() *Index {
	w.mu.Lock()
	defer w.mu.Unlock()

	x := &Index{Renditions: make([]packager.RecordedRendition, len(w.index.Renditions))}
	copy(x.Renditions, w.index.Renditions)

	return x
}

// Bytes returns the bytes written so far, index included.
func (w *Writer) Bytes() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()

	return w.bytes
}

func (w *Writer) run() {
	defer close(w.done)

	for j := range w.jobs {
		if w.Err() != nil {
			continue
		}

		err := w.write(j)
		if err == nil {
			continue
		}

		if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
			err = fmt.Errorf("%w: %w", ErrStorageFull, err)
		}

		w.mu.Lock()
		w.err = err
		w.mu.Unlock()

		w.Log.Warn("recording stopped", "video", w.Video, "file", j.file, "error", err)

		if w.OnFull != nil && errors.Is(err, ErrStorageFull) {
			w.OnFull(err)
		}
	}
}

// write stores one file, then the index line that lists it.
func (w *Writer) write(j job) error {
	line, err := json.Marshal(j.line)
	if err != nil {
		return err
	}

	if err := w.Storage.Write(j.file, j.data); err != nil {
		return err
	}

	if err := w.Storage.Append(w.Video+"/"+indexName, append(line, '\n')); err != nil {
		return err
	}

	w.mu.Lock()
	defer w.mu.Unlock()

	w.bytes += int64(len(j.data) + len(line) + 1)

	switch {
	case j.line.Init != nil:
		w.index.addInit(w.names, *j.line.Init, j.data)
	case j.line.Segment != nil:
		if i, ok := w.names[j.line.Rendition]; ok {
			r := &w.index.Renditions[i]
			r.Segments = append(r.Segments, *j.line.Segment)
		}
	}

	return nil
}
