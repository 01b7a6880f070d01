package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/onair/onair/ingest/stream"
	"github.com/onair/onair/packager"
	"github.com/onair/onair/transcode"
)

const (
	// sourceQueue is the reader queue of the pipeline, in units. The source
	// keeps it under half full, so the broadcast never drops the pipeline.
	sourceQueue = 512

	// pacePoll is how long the source waits before looking at the queue
	// again. Half a queue is seconds of media, so a short poll buys nothing
	// and its wake-ups, which an ingest server does not have, would be
	// counted against onair.
	pacePoll = 20 * time.Millisecond
)

// onairReport is what the child process tells the parent about its run.
type onairReport struct {
	Pictures   int               `json:"pictures"` // source pictures written
	Renditions []renditionReport `json:"renditions"`
}

// renditionReport describes one packaged rendition.
type renditionReport struct {
	Name      string  `json:"name"`
	Video     bool    `json:"video"`
	Width     int     `json:"width"`
	Height    int     `json:"height"`
	FrameRate float64 `json:"frame_rate"`
	Bitrate   int     `json:"bitrate"`
	Frames    int64   `json:"frames"`   // pictures encoded (video)
	Segments  int     `json:"segments"` // listed in its media playlist
	Seconds   float64 `json:"seconds"`  // listed duration
}

// pacedSource feeds a file's units into a real broadcast read by a Pipeline,
// as fast as the pipeline drains its queue.
type pacedSource struct {
	log      *slog.Logger
	pres     *packager.Presentation
	tracks   []*stream.Track // the pipeline's output tracks
	b        *stream.Broadcast
	reader   *stream.Reader
	pipeline *transcode.Pipeline
	pictures int
}

// transcodeClip runs the clip through onair's pipeline into a presentation
// and reports what it produced; it fails when the pipeline or the packager did
// not produce every rendition.
func transcodeClip(ctx context.Context, path string, log *slog.Logger) (*onairReport, error) {
	s := &pacedSource{
		log:  log,
		pres: &packager.Presentation{Store: &packager.MemoryStore{}, Log: log},
	}

	readErr := transcode.ReadFile(ctx, path, s.start)
	if s.pipeline == nil {
		if readErr == nil {
			readErr = errors.New("pipeline never started")
		}

		return nil, readErr
	}

	s.b.Close(readErr)
	<-s.pipeline.Done()
	s.pipeline.Close()

	if readErr != nil {
		return nil, fmt.Errorf("reading %s: %w", path, readErr)
	}

	if err := s.pipeline.Err(); err != nil {
		return nil, fmt.Errorf("pipeline: %w", err)
	}

	return s.report()
}

// start opens the broadcast and the pipeline for the file's tracks.
func (s *pacedSource) start(tracks []*stream.Track) (func(*stream.Unit), error) {
	s.b = stream.NewBroadcast(tracks, s.log)
	s.reader = s.b.NewReader("transcode", sourceQueue)
	p := &transcode.Pipeline{
		Reader: s.reader, Sink: (*trackSink)(s), Log: s.log, KeepLadder: true,
	}

	if err := p.Start(); err != nil {
		s.reader.Close()

		return nil, fmt.Errorf("starting pipeline: %w", err)
	}

	s.pipeline = p

	return s.write, nil
}

// write waits until the pipeline's queue is under half full, then writes u.
func (s *pacedSource) write(u *stream.Unit) {
	queue := s.reader.Units()
	for len(queue) >= cap(queue)/2 {
		select {
		case <-s.pipeline.Done():
			return
		case <-time.After(pacePoll):
		}
	}

	if u.Track.IsVideo() {
		s.pictures++
	}

	s.b.Write(u)
}

// report reads back what the presentation holds for every output track.
func (s *pacedSource) report() (*onairReport, error) {
	frames := map[string]int64{}
	for _, r := range s.pipeline.Status().Rungs {
		frames[r.Name] = r.Frames
	}

	rep := &onairReport{Pictures: s.pictures}
	for _, t := range s.tracks {
		pl, err := s.pres.MediaPlaylist(t.Name)
		if err != nil {
			return nil, fmt.Errorf("rendition %s: %w", t.Name, err)
		}

		n, secs := playlistSegments(pl)
		rep.Renditions = append(rep.Renditions, renditionReport{
			Name: t.Name, Video: t.IsVideo(), Width: t.Width, Height: t.Height,
			FrameRate: t.FrameRate, Bitrate: t.Bitrate, Frames: frames[t.Name],
			Segments: n, Seconds: secs,
		})
	}

	return rep, nil
}

// trackSink is the pacedSource's presentation, remembering the output tracks.
type trackSink pacedSource

// Start implements transcode.Sink.
func (t *trackSink) Start(tracks []*stream.Track) error {
	t.tracks = tracks

	return t.pres.Start(tracks)
}

// Write implements transcode.Sink.
func (t *trackSink) Write(u *stream.Unit) {
	t.pres.Write(u)
}

// End implements transcode.Sink.
func (t *trackSink) End() {
	t.pres.End()
}

// playlistSegments counts the segments of an HLS media playlist and sums
// their durations (RFC 8216 4.3.2.1, EXTINF).
func playlistSegments(pl []byte) (n int, seconds float64) {
	for line := range strings.Lines(string(pl)) {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "#EXTINF:")
		if !ok {
			continue
		}

		d, _, _ := strings.Cut(rest, ",")
		if v, err := strconv.ParseFloat(d, 64); err == nil {
			n++
			seconds += v
		}
	}

	return n, seconds
}
