package transcode

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asticode/go-astiav"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/onair/onair/ingest/stream"
)

// Pipeline defaults.
const (
	// DefaultSegmentDuration is the keyframe interval when SegmentDuration is 0.
	DefaultSegmentDuration = 2 * time.Second

	// keyIntervalSegments is how many segments long the encoders' own GOP limit
	// is: far enough that only the pipeline's forced keyframes start GOPs.
	keyIntervalSegments = 10

	// observeEvery is the media time between two lag observations.
	observeEvery = time.Second
)

// Pipeline transcodes one broadcast into the ladder. Fill the exported fields,
// call Start, and Close when done. The zero values of the optional fields
// mean the defaults.
type Pipeline struct {
	// Reader is the source broadcast. Close closes it.
	Reader *stream.Reader

	// Sink receives the renditions.
	Sink Sink

	// Log receives the pipeline's lines; nil discards them.
	Log *slog.Logger

	// SegmentDuration is the keyframe interval (default 2 s).
	SegmentDuration time.Duration

	// Encoder names the video encoder (default "libx264"); see LookupEncoder.
	Encoder string

	// Threads is the number of CPU threads to use in all (default NumCPU).
	Threads int

	// KeepLadder turns adaptation off: presets and rungs never change.
	KeepLadder bool

	// Controller holds the adaptation thresholds; its Rungs is set by Start.
	Controller Controller

	now      func() time.Time
	lagProbe func() time.Duration // replaces the rungs' lag, for tests

	openEnc EncoderFactory // replaces LookupEncoder's factory, for tests

	log      *slog.Logger
	factory  EncoderFactory
	encoder  string      // the encoder in use, guarded by levelMu
	fellBack string      // why the input left its hardware encoder, levelMu
	hwFailed atomic.Bool // a rung's hardware encoder failed
	videoSrc *stream.Track
	audioSrc *stream.Track
	video    *videoDecoder
	audio    *audioTranscoder
	audioOut *stream.Track
	workers  []*rungWorker
	decWarn  *throttle
	segTicks int64

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	done   chan struct{}
	sinkMu sync.Mutex
	err    error

	// Dispatcher state, owned by the run goroutine.
	started bool
	origin  time.Duration
	lastPTS int64
	hasPTS  bool
	nextKey int64
	lastObs int64
	lastLag time.Duration
	preset  string
	dropped int
	levelMu sync.Mutex
	level   int
}

// Start validates the source tracks, opens the decoders and encoders, hands
// the output tracks to Sink.Start and starts transcoding. It returns an
// *UnsupportedCodecError for a source track it cannot decode.
func (p *Pipeline) Start() error {
	if p.done != nil {
		return ErrStarted
	}

	if p.Reader == nil || p.Sink == nil {
		return ErrNoReader
	}

	p.defaults()

	if err := p.pickTracks(); err != nil {
		return err
	}

	tracks, err := p.open()
	if err != nil {
		p.free()

		return err
	}

	if err := p.Sink.Start(tracks); err != nil {
		p.free()

		return fmt.Errorf("starting sink: %w", err)
	}

	p.ctx, p.cancel = context.WithCancel(context.Background())
	p.done = make(chan struct{})

	for _, w := range p.workers {
		p.wg.Add(1)

		go func() {
			defer p.wg.Done()
			w.run(p.ctx.Done())
		}()
	}

	go p.run()

	p.log.Info("transcoding", "encoder", p.encoderName(), "rungs", len(p.workers),
		"audio", p.audio != nil, "threads", p.Threads)

	return nil
}

func (p *Pipeline) defaults() {
	if p.Log == nil {
		p.Log = slog.New(slog.DiscardHandler)
	}

	p.log = p.Log.With("component", "transcode")

	if p.SegmentDuration <= 0 {
		p.SegmentDuration = DefaultSegmentDuration
	}

	if p.Threads <= 0 {
		p.Threads = runtime.NumCPU()
	}

	if p.now == nil {
		p.now = time.Now
	}

	p.segTicks = max(durationToTicks(p.SegmentDuration), 1)
	p.decWarn = &throttle{log: p.log, msg: "source unit dropped", now: p.now}
	quietFFmpeg()
}

// pickTracks finds the source video and audio tracks.
func (p *Pipeline) pickTracks() error {
	for _, t := range p.Reader.Tracks() {
		switch {
		case t.IsVideo() && p.videoSrc == nil:
			if t.Codec != stream.CodecH264 {
				return &UnsupportedCodecError{Codec: t.Codec, Name: t.CodecName(), Video: true}
			}

			p.videoSrc = t
		case !t.IsVideo() && p.audioSrc == nil:
			if t.Codec != stream.CodecAAC {
				return &UnsupportedCodecError{Codec: t.Codec, Name: t.CodecName()}
			}

			p.audioSrc = t
		}
	}

	if p.videoSrc == nil && p.audioSrc == nil {
		return ErrNoTracks
	}

	return nil
}

// open opens everything Start needs and returns the output tracks.
func (p *Pipeline) open() ([]*stream.Track, error) {
	var tracks []*stream.Track

	if p.videoSrc != nil {
		var err error
		if tracks, err = p.openVideo(); err != nil {
			return nil, err
		}
	}

	if p.audioSrc != nil {
		a, err := newAudioTranscoder(p.audioSrc)
		if err != nil {
			return nil, err
		}

		p.audio = a
		p.audioOut = a.Track(len(tracks) + 1)
		tracks = append(tracks, p.audioOut)
	}

	return tracks, nil
}

func (p *Pipeline) openVideo() ([]*stream.Track, error) {
	factory, err := LookupEncoder(p.Encoder)
	if err != nil {
		return nil, err
	}

	if p.openEnc != nil {
		factory = p.openEnc
	}

	p.factory = factory
	p.encoder = p.Encoder

	if p.encoder == "" {
		p.encoder = DefaultEncoder
	}

	width, height, fps := sourceGeometry(p.videoSrc)
	rungs := PlanLadder(width, height, fps)
	if rungs == nil {
		return nil, fmt.Errorf("source picture size %dx%d is unknown", width, height)
	}

	if p.video, err = newVideoDecoder(p.videoSrc, 1+p.Threads/8); err != nil {
		return nil, err
	}

	p.Controller.Rungs = len(rungs)
	p.preset = presets[0]
	threads := splitThreads(p.Threads, rungs)

	var tracks []*stream.Track
	for i, r := range rungs {
		w, err := p.openRung(r, threads[i], len(tracks)+1)
		if err != nil {
			return nil, err
		}

		p.workers = append(p.workers, w)
		tracks = append(tracks, w.track)
	}

	return tracks, nil
}

// openRung opens one rung's first encoder, whose parameter sets go into the
// output track.
func (p *Pipeline) openRung(r Rung, threads, id int) (*rungWorker, error) {
	w := &rungWorker{
		rung:        r,
		factory:     p.factory,
		threads:     threads,
		keyInterval: max(int(r.FrameRate*p.SegmentDuration.Seconds())*keyIntervalSegments, 1),
		emit:        p.emit,
		now:         p.now,
		warn:        &throttle{log: p.log, msg: "rendition picture lost", now: p.now},
		queue:       make(chan rungJob, rungQueue),
		failed:      p.hardwareFailed,
		changed:     p.switchTrack,
	}

	if err := w.openEncoder(p.preset, p.encoder); err != nil {
		return nil, err
	}

	sps, pps := w.enc.ParameterSets()
	w.track = &stream.Track{
		ID: id, Codec: stream.CodecH264, Name: r.Name, SPS: sps, PPS: pps,
		Width: r.Width, Height: r.Height, FrameRate: r.FrameRate, Bitrate: r.Bitrate,
	}

	return w, nil
}

// free releases what open allocated, when Start fails.
func (p *Pipeline) free() {
	for _, w := range p.workers {
		if w.enc != nil {
			w.enc.Close()
		}
	}

	p.workers = nil

	if p.video != nil {
		p.video.Close()
		p.video = nil
	}

	if p.audio != nil {
		p.audio.Close()
		p.audio = nil
	}
}

// sourceGeometry returns the source picture size and rate, from the track or
// else from its SPS.
func sourceGeometry(t *stream.Track) (width, height int, fps float64) {
	width, height, fps = t.Width, t.Height, t.FrameRate
	if width > 0 && height > 0 && fps > 0 {
		return width, height, fps
	}

	var sps h264.SPS
	if err := sps.Unmarshal(t.SPS); err != nil {
		return width, height, fps
	}

	if width <= 0 || height <= 0 {
		width, height = sps.Width(), sps.Height()
	}

	if fps <= 0 {
		fps = sps.FPS()
	}

	return width, height, fps
}

// splitThreads shares total threads among rungs by pixel count, at least one
// each.
func splitThreads(total int, rungs []Rung) []int {
	pixels := 0
	for _, r := range rungs {
		pixels += r.Width * r.Height
	}

	out := make([]int, len(rungs))
	for i, r := range rungs {
		out[i] = max(1, int(float64(total)*float64(r.Width*r.Height)/float64(max(pixels, 1))+0.5))
	}

	return out
}

// Close stops the pipeline, waits for its goroutines and closes the Reader.
func (p *Pipeline) Close() {
	if p.done == nil {
		return
	}

	p.cancel()
	<-p.done
	p.Reader.Close()
}

// Done is closed once the source ended (or Close was called) and Sink.End
// has returned.
func (p *Pipeline) Done() <-chan struct{} {
	return p.done
}

// Err returns why the source ended, when it did not end normally; it is
// valid once Done is closed.
func (p *Pipeline) Err() error {
	select {
	case <-p.done:
		return p.err
	default:
		return nil
	}
}

// Status returns a snapshot of the pipeline.
func (p *Pipeline) Status() Status {
	p.levelMu.Lock()
	s := Status{Encoder: p.encoderName(), Level: p.level, Fallback: p.fellBack}
	p.levelMu.Unlock()

	for _, w := range p.workers {
		s.Rungs = append(s.Rungs, w.status())
	}

	return s
}

func (p *Pipeline) encoderName() string {
	if p.videoSrc == nil {
		return ""
	}

	if p.encoder != "" {
		return p.encoder
	}

	if p.Encoder == "" {
		return DefaultEncoder
	}

	return p.Encoder
}

// emit serializes units to the sink.
func (p *Pipeline) emit(u *stream.Unit) {
	p.sinkMu.Lock()
	defer p.sinkMu.Unlock()

	p.Sink.Write(u)
}

// quietOnce keeps FFmpeg's own logging to fatal errors: the pipeline reports
// per-packet problems itself, throttled, through slog.
var quietOnce sync.Once

func quietFFmpeg() {
	quietOnce.Do(func() { astiav.SetLogLevel(astiav.LogLevelFatal) })
}

// errOf turns a reader's end reason into the pipeline's error.
func errOf(reason error) error {
	if reason == nil || errors.Is(reason, stream.ErrEnded) {
		return nil
	}

	return reason
}
