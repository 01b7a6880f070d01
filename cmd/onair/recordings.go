package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/onair/onair/api"
	"github.com/onair/onair/delivery"
	"github.com/onair/onair/packager"
	"github.com/onair/onair/recording"
	"github.com/onair/onair/store"
)

// Recording's defaults and limits.
const (
	// janitorInterval is how often videos past their scheduled deletion are
	// looked for.
	janitorInterval = time.Minute

	// errStorageQuota is the errorReasonCode of a video whose recording
	// stopped because the storage was full (Cloudflare's name).
	errStorageQuota = "ERR_STORAGE_QUOTA_EXHAUSTED"

	// recordedKept is how many recorded presentations (indexes of videos
	// played since) are kept in memory before they are read again.
	recordedKept = 1024
)

// recordings keeps every broadcast of inputs in automatic recording mode as a
// video: its row in the store, its files in storage, its playback as a live
// presentation while it lasts and a recorded one afterwards. A janitor
// deletes videos past their scheduled deletion.
type recordings struct {
	store   *store.Store
	storage recording.Storage
	log     *slog.Logger

	// interval replaces janitorInterval when set (tests).
	interval time.Duration

	// events, when set, hears of videos that became ready and of recordings
	// stopped by a full disk (webhooks); base is the public URL they name.
	events recordingEvents
	base   string

	// downloads is the directory of the MP4 downloads; empty serves none.
	downloads string
	making    sync.Mutex // held while a download is made

	mu       sync.Mutex
	live     map[string]*liveRecording         // by video uid
	recorded map[string]*packager.Presentation // by video uid, loaded on first play

	stop chan struct{}
	wg   sync.WaitGroup
}

// recordingEvents hears what happens to recordings.
type recordingEvents interface {
	VideoReady(liveInput string, video any)
	Errored(liveInput, code, message string)
}

// liveRecording is a video whose broadcast is going on.
type liveRecording struct {
	video        *store.Video
	writer       *recording.Writer
	presentation *packager.Presentation
}

// Start finishes the videos a process that stopped without ending its
// broadcasts left live (they keep every segment listed in their index), and
// starts the janitor.
func (rs *recordings) Start() error {
	rs.live = map[string]*liveRecording{}
	rs.recorded = map[string]*packager.Presentation{}
	rs.stop = make(chan struct{})

	ctx := context.Background()
	list, err := rs.store.ListVideos(ctx, store.VideoFilter{State: store.VideoLive})
	if err != nil {
		return fmt.Errorf("recordings: %w", err)
	}

	for _, v := range list {
		x, err := recording.Load(rs.storage, v.UID)
		if err != nil {
			x = &recording.Index{}
			rs.log.Warn("recording left without an index", "video", v.UID, "error", err)
		}

		rs.finishVideo(v.UID, x, nil)
	}

	rs.wg.Add(1)
	go rs.janitor()

	return nil
}

// Close stops the janitor. Broadcasts are ended by inputs first.
func (rs *recordings) Close() {
	close(rs.stop)
	rs.wg.Wait()
}

// begin creates the video of a broadcast of li that pres packages, and
// attaches its writer to pres; it returns nil when li does not record or the
// video cannot be created (the broadcast goes on unrecorded).
func (rs *recordings) begin(li *store.LiveInput, pres *packager.Presentation) *liveRecording {
	if li.Recording.Mode != store.RecordingAutomatic {
		return nil
	}

	v := &store.Video{LiveInput: li.UID, Creator: li.DefaultCreator, Meta: li.Meta,
		State: store.VideoLive, Duration: -1,
		RequireSignedURLs: li.Recording.RequireSignedURLs,
		AllowedOrigins:    li.Recording.AllowedOrigins}

	if days := li.DeleteRecordingAfterDays; days != nil {
		t := time.Now().UTC().Add(time.Duration(*days) * 24 * time.Hour)
		v.ScheduledDeletion = &t
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	if err := rs.store.CreateVideo(ctx, v); err != nil {
		rs.log.Warn("broadcast not recorded", "input", li.UID, "error", err)

		return nil
	}

	w := &recording.Writer{Storage: rs.storage, Video: v.UID, Log: rs.log}
	w.OnFull = func(err error) { rs.full(v.UID, err) }

	if err := w.Start(); err != nil {
		rs.log.Warn("broadcast not recorded", "input", li.UID, "error", err)

		return nil
	}

	lr := &liveRecording{video: v, writer: w, presentation: pres}
	pres.Recorder = w

	rs.mu.Lock()
	rs.live[v.UID] = lr
	rs.mu.Unlock()

	rs.log.Info("recording", "input", li.UID, "video", v.UID)

	return lr
}

// full marks a video whose storage ran out of space: recording stops, live
// playback goes on.
func (rs *recordings) full(uid string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	v, uerr := rs.store.UpdateVideo(ctx, uid, func(v *store.Video) error {
		v.ErrorCode, v.ErrorText = errStorageQuota, err.Error()

		return nil
	})
	if uerr != nil {
		rs.log.Warn("video not updated", "video", uid, "error", uerr)

		return
	}

	if rs.events != nil {
		rs.events.Errored(v.LiveInput, errStorageQuota, "recording stopped: "+err.Error())
	}
}

// end finishes the video of a broadcast whose presentation has ended: the
// writer stores what is queued, and the video becomes ready.
func (rs *recordings) end(lr *liveRecording) {
	lr.writer.Close()
	rs.finishVideo(lr.video.UID, lr.writer.Index(), lr.writer.Err())

	rs.mu.Lock()
	delete(rs.live, lr.video.UID)
	rs.mu.Unlock()
}

// finishVideo writes the duration, picture size and size of a recording
// into its video and makes it ready.
func (rs *recordings) finishVideo(uid string, x *recording.Index, werr error) {
	size, err := rs.storage.Size(uid)
	if err != nil {
		rs.log.Warn("recording size unknown", "video", uid, "error", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	// A broadcast that ended before its first segment is no video, unless
	// it says why nothing was recorded.
	if x.Duration() == 0 && werr == nil {
		err := errors.Join(rs.storage.RemoveAll(uid), rs.store.DeleteVideo(ctx, uid))
		rs.log.Info("recording without a segment removed", "video", uid, "error", err)

		return
	}

	v, err := rs.store.UpdateVideo(ctx, uid, func(v *store.Video) error {
		v.State = store.VideoReady
		v.Duration = x.Duration()
		v.Width, v.Height = x.Size()
		v.Size = size

		if werr != nil && v.ErrorCode == "" {
			v.ErrorCode, v.ErrorText = "ERR_RECORDING", werr.Error()
		}

		return nil
	})
	if err != nil {
		rs.log.Warn("video not finished", "video", uid, "error", err)

		return
	}

	rs.log.Info("recording ready", "video", uid, "duration", v.Duration, "bytes", v.Size)

	if rs.events != nil {
		rs.events.VideoReady(v.LiveInput, api.VideoObject(v, rs.base))
	}
}

// Presentation returns the presentation of a video: the live one while its
// broadcast goes on, the recorded one afterwards.
func (rs *recordings) Presentation(uid string) (*packager.Presentation, bool) {
	rs.mu.Lock()
	lr, live := rs.live[uid]
	p, recorded := rs.recorded[uid]
	rs.mu.Unlock()

	switch {
	case live:
		return lr.presentation, true
	case recorded:
		return p, true
	case !validUID(uid):
		return nil, false
	}

	v, err := rs.store.GetVideo(context.Background(), uid)
	if err != nil || v.State != store.VideoReady {
		return nil, false
	}

	p, err = recording.Presentation(rs.storage, uid)
	if err != nil {
		rs.log.Warn("recording does not play", "video", uid, "error", err)

		return nil, false
	}

	rs.mu.Lock()
	if len(rs.recorded) >= recordedKept {
		clear(rs.recorded)
	}

	rs.recorded[uid] = p
	rs.mu.Unlock()

	return p, true
}

// VideoOf returns the uid of the video the input uid is recording, if any.
func (rs *recordings) VideoOf(input string) (string, bool) {
	rs.mu.Lock()
	defer rs.mu.Unlock()

	for uid, lr := range rs.live {
		if lr.video.LiveInput == input {
			return uid, true
		}
	}

	return "", false
}

// validUID reports whether s looks like a uid, so that random paths cost no
// store read.
func validUID(s string) bool {
	if len(s) != 32 {
		return false
	}

	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}

	return true
}

// ListVideos implements api.Videos.
func (rs *recordings) ListVideos(ctx context.Context, f store.VideoFilter) ([]*store.Video,
	error) {
	return rs.store.ListVideos(ctx, f)
}

// GetVideo implements api.Videos.
func (rs *recordings) GetVideo(ctx context.Context, uid string) (*store.Video, error) {
	return rs.store.GetVideo(ctx, uid)
}

// UpdateVideo implements api.Videos.
func (rs *recordings) UpdateVideo(ctx context.Context, uid string,
	change func(v *store.Video) error) (*store.Video, error) {
	return rs.store.UpdateVideo(ctx, uid, change)
}

// DeleteVideo implements api.Videos: the files go first, so that a failure
// leaves the row to try again.
func (rs *recordings) DeleteVideo(ctx context.Context, uid string) error {
	rs.mu.Lock()
	_, live := rs.live[uid]
	rs.mu.Unlock()

	if live {
		return api.ErrVideoLive
	}

	if _, err := rs.store.GetVideo(ctx, uid); err != nil {
		return err
	}

	if err := errors.Join(rs.storage.RemoveAll(uid), rs.removeDownload(uid)); err != nil {
		return fmt.Errorf("video %s: remove files: %w", uid, err)
	}

	rs.mu.Lock()
	delete(rs.recorded, uid)
	rs.mu.Unlock()

	return rs.store.DeleteVideo(ctx, uid)
}

// janitor deletes the videos past their scheduled deletion.
func (rs *recordings) janitor() {
	defer rs.wg.Done()

	interval := rs.interval
	if interval <= 0 {
		interval = janitorInterval
	}

	tick := time.NewTicker(interval)
	defer tick.Stop()

	for {
		rs.sweep()

		select {
		case <-rs.stop:
			return
		case <-tick.C:
		}
	}
}

// sweep deletes the videos due now.
func (rs *recordings) sweep() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	due, err := rs.store.VideosDueForDeletion(ctx, time.Now())
	if err != nil {
		rs.log.Warn("janitor cannot list videos", "error", err)

		return
	}

	for _, v := range due {
		err := rs.DeleteVideo(ctx, v.UID)
		if err != nil && !errors.Is(err, api.ErrVideoLive) && !errors.Is(err, store.ErrNotFound) {
			rs.log.Warn("scheduled deletion failed", "video", v.UID, "error", err)

			continue
		}

		if err == nil {
			rs.log.Info("video deleted as scheduled", "video", v.UID)
		}
	}
}

// abandon removes the video of a broadcast that was refused at its start.
func (rs *recordings) abandon(lr *liveRecording) {
	lr.writer.Close()

	rs.mu.Lock()
	delete(rs.live, lr.video.UID)
	rs.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	err := errors.Join(rs.storage.RemoveAll(lr.video.UID), rs.store.DeleteVideo(ctx,
		lr.video.UID))
	if err != nil {
		rs.log.Warn("video of a refused broadcast not removed", "video", lr.video.UID,
			"error", err)
	}
}

// record starts the video of a broadcast of the input uid packaged by pres,
// when the input records.
func (in *inputs) record(uid string, pres *packager.Presentation) *liveRecording {
	if in.recordings == nil {
		return nil
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	li, err := in.store.GetLiveInput(ctx, uid)
	if err != nil {
		in.log.Warn("broadcast not recorded", "input", uid, "error", err)

		return nil
	}

	return in.recordings.begin(li, pres)
}

// Lifecycle implements delivery.Lifecycles.
func (in *inputs) Lifecycle(id string) (delivery.Lifecycle, bool) {
	in.mu.Lock()
	s, ok := in.sessions[id]
	in.mu.Unlock()

	if ok {
		l := delivery.Lifecycle{IsInput: true, Live: !s.presentation.Ended()}
		if in.recordings != nil {
			l.VideoUID, _ = in.recordings.VideoOf(id)
		}

		return l, true
	}

	if in.recordings == nil || !validUID(id) {
		return delivery.Lifecycle{}, false
	}

	v, err := in.store.GetVideo(context.Background(), id)
	if err != nil {
		return delivery.Lifecycle{}, false
	}

	return delivery.Lifecycle{VideoUID: v.UID, Live: v.State == store.VideoLive}, true
}
