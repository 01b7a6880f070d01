package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/onair/onair/delivery"
	"github.com/onair/onair/recording"
	"github.com/onair/onair/store"
)

// downloadsDir is the directory in --data that keeps the MP4 downloads made
// from recordings, one per video, made on the first request.
const downloadsDir = "downloads"

// Download implements delivery.Downloads: the MP4 of a ready video, made
// once from its recording and kept beside it.
func (rs *recordings) Download(ctx context.Context, uid string) (*os.File, error) {
	if !validUID(uid) || rs.downloads == "" {
		return nil, delivery.ErrNoDownload
	}

	v, err := rs.store.GetVideo(ctx, uid)
	if errors.Is(err, store.ErrNotFound) || (err == nil && v.State != store.VideoReady) {
		return nil, fmt.Errorf("video %s: %w", uid, delivery.ErrNoDownload)
	}

	if err != nil {
		return nil, err
	}

	path := filepath.Join(rs.downloads, uid+".mp4")
	if f, err := os.Open(path); err == nil {
		return f, nil
	}

	// One download is made at a time: remuxing reads the whole recording.
	rs.making.Lock()
	defer rs.making.Unlock()

	if f, err := os.Open(path); err == nil {
		return f, nil
	}

	if err := rs.makeDownload(uid, path); err != nil {
		if errors.Is(err, recording.ErrNothingToDownload) {
			return nil, fmt.Errorf("%w: %w", delivery.ErrNoDownload, err)
		}

		return nil, err
	}

	return os.Open(path)
}

// makeDownload writes the MP4 of video uid to path, through a temporary file
// so that a reader never sees half of it.
func (rs *recordings) makeDownload(uid, path string) error {
	if err := os.MkdirAll(rs.downloads, 0o750); err != nil {
		return err
	}

	f, err := os.CreateTemp(rs.downloads, ".tmp-*")
	if err != nil {
		return err
	}

	err = recording.WriteMP4(f, rs.storage, uid)
	err = errors.Join(err, f.Close())

	if err == nil {
		err = os.Rename(f.Name(), path)
	}

	if err != nil {
		os.Remove(f.Name())

		return err
	}

	rs.log.Info("download made", "video", uid)

	return nil
}

// removeDownload removes the MP4 of video uid, if it was made.
func (rs *recordings) removeDownload(uid string) error {
	if rs.downloads == "" {
		return nil
	}

	err := os.Remove(filepath.Join(rs.downloads, uid+".mp4"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}

	return err
}
