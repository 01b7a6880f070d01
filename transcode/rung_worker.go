package transcode

import (
	"bytes"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asticode/go-astiav"
	"github.com/onair/onair/ingest/stream"
)

// rungQueue is the number of decoded pictures a rung may have waiting. Each
// one held keeps a decoded source picture alive (3 MB at 1080p), and encoders
// copy what they need, so a short queue is enough to keep them busy.
const rungQueue = 2

// rungJob is one instruction to a rung worker.
type rungJob struct {
	frame   *astiav.Frame // owned by the worker; nil: stop encoding
	key     bool          // force a keyframe
	preset  string        // on keyframes: the preset to encode with
	encoder string        // on keyframes: the encoder to encode with
	factory EncoderFactory
	arrival time.Time // when the source unit was read
}

// rungWorker scales and encodes the pictures of one rung on its own goroutine.
type rungWorker struct {
	rung        Rung
	track       *stream.Track
	factory     EncoderFactory
	threads     int
	keyInterval int
	emit        func(*stream.Unit)
	now         func() time.Time
	warn        *throttle
	queue       chan rungJob

	// failed is called, on the worker's goroutine, when a hardware encoder
	// fails; changed when an encoder's parameter sets differ from the track's.
	failed  func(w *rungWorker, err error)
	changed func(t *stream.Track)

	enc      VideoEncoder
	preset   string
	encName  string
	broken   bool // a hardware encoder failed: only libx264 from now on
	inband   bool // keyframes carry the SPS and PPS
	sps, pps []byte
	sws      *astiav.SoftwareScaleContext
	swsFrom  [4]int        // source width, height, pixel format; encoder's format
	scaled   *astiav.Frame // the scaled picture; its buffer is reused
	lastDTS  int64
	hasDTS   bool

	sending bool // dispatcher side: the rung is being fed

	active atomic.Bool
	frames atomic.Int64
	lag    atomic.Int64

	statusMu      sync.Mutex
	statusPreset  string
	statusEncoder string
}

// run handles jobs until the queue is closed, then flushes.
func (w *rungWorker) run(stop <-chan struct{}) {
	w.scaled = astiav.AllocFrame()
	defer w.scaled.Free()
	defer w.freeScaler()

	for job := range w.queue {
		select {
		case <-stop:
			if job.frame != nil {
				job.frame.Free()
			}

			continue
		default:
		}

		if err := w.safely(job); err != nil {
			w.warn.Warn(err, "rung", w.rung.Name)
		}
	}

	w.closeEncoder()
}

// safely handles one job, turning a panic into an error.
func (w *rungWorker) safely(job rungJob) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic encoding %s: %v", w.rung.Name, r)
		}
	}()

	if job.frame == nil {
		w.closeEncoder()
		w.active.Store(false)

		return nil
	}
	defer job.frame.Free()

	if w.broken {
		job.encoder, job.factory = DefaultEncoder, openX264
	}

	if job.key && job.factory != nil &&
		(w.enc == nil || job.preset != w.preset || job.encoder != w.encName) {
		w.closeEncoder()
		w.factory = job.factory

		if err := w.openEncoder(job.preset, job.encoder); err != nil {
			return err
		}
	}

	if w.enc == nil {
		return nil
	}

	return w.encode(job)
}

func (w *rungWorker) encode(job rungJob) error {
	pic := job.frame

	// A rung the size and format of the source encodes the decoded picture
	// itself: scaling it would only copy it.
	if pic.Width() != w.rung.Width || pic.Height() != w.rung.Height ||
		pic.PixelFormat() != w.enc.PixelFormat() {
		if err := w.scale(job.frame); err != nil {
			return err
		}

		pic = w.scaled
	}

	pics, err := w.enc.Encode(pic, job.key)
	w.send(pics)

	if err != nil && w.encName != DefaultEncoder && !w.broken {
		// The hardware encoder is gone (session limit, device lost): drop it
		// unflushed and let the pipeline move the input to libx264 at the next
		// segment boundary; pictures until then are lost on this rung.
		w.broken = true
		w.enc.Close()
		w.enc = nil

		if w.failed != nil {
			w.failed(w, err)
		}

		return nil
	}

	w.active.Store(true)
	w.frames.Add(1)
	w.lag.Store(int64(w.now().Sub(job.arrival)))

	return err
}

// scale converts src to the rung's size and the encoder's format.
func (w *rungWorker) scale(src *astiav.Frame) error {
	from := [4]int{src.Width(), src.Height(), int(src.PixelFormat()), int(w.enc.PixelFormat())}
	if w.sws == nil || from != w.swsFrom {
		w.freeScaler()
		w.scaled.Unref()

		sws, err := astiav.CreateSoftwareScaleContext(src.Width(), src.Height(),
			src.PixelFormat(), w.rung.Width, w.rung.Height, w.enc.PixelFormat(),
			astiav.NewSoftwareScaleContextFlags(astiav.SoftwareScaleContextFlagBilinear))
		if err != nil {
			return fmt.Errorf("creating scaler %dx%d to %dx%d: %w",
				src.Width(), src.Height(), w.rung.Width, w.rung.Height, err)
		}

		w.sws, w.swsFrom = sws, from
	}

	// The scaled picture's buffer is reused from one picture to the next
	// unless the encoder still holds a reference to it: encoders copy what
	// they keep, so a fresh buffer (a page-faulting allocation) every picture
	// would only cost time.
	if !writable(w.scaled) {
		w.scaled.Unref()
	}

	if err := w.sws.ScaleFrame(src, w.scaled); err != nil {
		return fmt.Errorf("scaling to %s: %w", w.rung.Name, err)
	}

	w.scaled.SetPts(src.Pts())

	return nil
}

func (w *rungWorker) openEncoder(preset, name string) error {
	enc, err := w.factory(EncoderConfig{
		Rung: w.rung, Preset: preset, Threads: w.threads, KeyInterval: w.keyInterval,
	})
	if err != nil {
		return err
	}

	w.enc, w.preset, w.encName = enc, preset, name
	w.sps, w.pps = enc.ParameterSets()
	w.statusMu.Lock()
	w.statusPreset, w.statusEncoder = preset, name
	w.statusMu.Unlock()

	if w.track != nil && (!bytes.Equal(w.sps, w.track.SPS) || !bytes.Equal(w.pps, w.track.PPS)) {
		// Another encoder: a new description of the rendition, and from now on
		// the parameter sets in-band as well, for sinks that keep the first.
		t := *w.track
		t.SPS, t.PPS = w.sps, w.pps
		w.track, w.inband = &t, true

		if w.changed != nil {
			w.changed(w.track)
		}
	}

	return nil
}

// closeEncoder flushes the encoder's last pictures out and frees it.
func (w *rungWorker) closeEncoder() {
	if w.enc == nil {
		return
	}

	pics, err := w.enc.Encode(nil, false)
	w.send(pics)

	if err != nil {
		w.warn.Warn(err, "rung", w.rung.Name)
	}

	w.enc.Close()
	w.enc = nil
}

// send hands pictures to the sink with rising DTS.
func (w *rungWorker) send(pics []Picture) {
	for _, p := range pics {
		if w.hasDTS && p.DTS <= w.lastDTS {
			p.DTS = w.lastDTS + 1
		}

		p.PTS = max(p.PTS, p.DTS)
		w.lastDTS, w.hasDTS = p.DTS, true

		if w.inband && p.Key {
			p.NALUs = append([][]byte{w.sps, w.pps}, p.NALUs...)
		}

		w.emit(&stream.Unit{
			Track: w.track,
			PTS:   ticksToDuration(p.PTS),
			DTS:   ticksToDuration(p.DTS),
			Key:   p.Key,
			NALUs: p.NALUs,
		})
	}
}

func (w *rungWorker) freeScaler() {
	if w.sws != nil {
		w.sws.Free()
		w.sws = nil
	}
}

// status reports the rung for Pipeline.Status.
func (w *rungWorker) status() RungStatus {
	w.statusMu.Lock()
	preset, encoder := w.statusPreset, w.statusEncoder
	w.statusMu.Unlock()

	lag := time.Duration(w.lag.Load())

	return RungStatus{
		Name:      w.rung.Name,
		Width:     w.rung.Width,
		Height:    w.rung.Height,
		Bitrate:   w.rung.Bitrate,
		Preset:    preset,
		Encoder:   encoder,
		Active:    w.active.Load(),
		Frames:    w.frames.Load(),
		Lag:       lag,
		LagMillis: lag.Milliseconds(),
	}
}

// ticksToDuration converts 90 kHz ticks to a duration.
func ticksToDuration(t int64) time.Duration {
	return time.Duration(t/90000)*time.Second + time.Duration(t%90000)*time.Second/90000
}

// durationToTicks converts a duration to 90 kHz ticks.
func durationToTicks(d time.Duration) int64 {
	s := int64(d / time.Second)

	return s*90000 + int64(d%time.Second)*90000/int64(time.Second)
}
