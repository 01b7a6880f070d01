package main

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/onair/onair/recording"
	"github.com/onair/onair/store"
)

// fullDir is a recordings directory that refuses writes with ENOSPC once it
// holds limit bytes, the way a full disk does; below that, the real
// filesystem writes them.
type fullDir struct {
	recording.Dir

	mu      sync.Mutex
	written int
	limit   int
}

func (f *fullDir) take(n int) error {
	f.mu.Lock()
	defer f.mu.Unlock()

	if f.written+n > f.limit {
		return &os.PathError{Op: "write", Path: f.Root, Err: syscall.ENOSPC}
	}

	f.written += n

	return nil
}

func (f *fullDir) Write(name string, data []byte) error {
	if err := f.take(len(data)); err != nil {
		return err
	}

	return f.Dir.Write(name, data)
}

func (f *fullDir) Append(name string, data []byte) error {
	if err := f.take(len(data)); err != nil {
		return err
	}

	return f.Dir.Append(name, data)
}

// TestRecordingDiskFull fills the recordings' storage mid-broadcast: the
// video reports ERR_STORAGE_QUOTA_EXHAUSTED, live playback goes on, and what
// was written before plays.
func TestRecordingDiskFull(t *testing.T) {
	const seconds = 10

	full := &fullDir{Dir: recording.Dir{Root: t.TempDir()}, limit: 600_000}
	n := startNode(t, func(n *node) { n.recordingStorage = full })
	li := n.createInput(t)

	pub := startFFmpeg(t, append(lavfi(true, true, seconds), "-c:v", "libx264", "-preset",
		"ultrafast", "-g", "50", "-c:a", "aac", "-f", "flv", n.rtmp+li.RTMP.StreamKey)...)

	v := n.waitVideos(t, li.UID, "out of space", func(list []videoResult) bool {
		return len(list) == 1 && list[0].Status.ErrorReasonCode == errStorageQuota
	})[0]

	if v.Status.State != "live-inprogress" {
		t.Errorf("video out of space mid-broadcast is %q, want live-inprogress", v.Status.State)
	}

	// Live playback goes on from memory: the input's playlist keeps growing.
	media := n.base + "/" + li.UID + "/manifest/360p/index.m3u8"
	before := mediaSequenceEnd(t, media)
	deadline := time.Now().Add(30 * time.Second)

	for mediaSequenceEnd(t, media) <= before+1 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}

	if after := mediaSequenceEnd(t, media); after <= before+1 {
		t.Errorf("live playlist stopped at segment %d after the disk filled", after)
	}

	if err := pub.wait(t); err != nil {
		t.Fatalf("publisher: %v\n%s", err, pub.out.String())
	}

	v = n.waitVideos(t, li.UID, "ready", states("ready"))[0]
	if v.Status.ErrorReasonCode != errStorageQuota || v.Duration <= 0 ||
		v.Duration >= seconds-1 {
		t.Errorf("video after a full disk: %+v, want a part of %d s with %s", v, seconds,
			errStorageQuota)
	}

	d := playedSeconds(t, n.base+"/"+v.UID+"/manifest/video.m3u8")
	if math.Abs(d-v.Duration) > 1 {
		t.Errorf("recording kept before the disk filled plays %.3f s, its duration is %.3f s",
			d, v.Duration)
	}
}

// mediaSequenceEnd returns the number of the last segment a media playlist
// lists.
func mediaSequenceEnd(t *testing.T, url string) int {
	t.Helper()

	_, _, body := httpGet(t, url)
	m := regexp.MustCompile(`seg_(\d+)\.m4s`).FindAllStringSubmatch(body, -1)
	if len(m) == 0 {
		return -1
	}

	n := 0
	for _, d := range m[len(m)-1][1] {
		n = n*10 + int(d-'0')
	}

	return n
}

// TestRecordingJanitor deletes a video, files and row, once its scheduled
// deletion has passed, and leaves the others.
func TestRecordingJanitor(t *testing.T) {
	n := startNode(t, func(n *node) { n.janitorInterval = 50 * time.Millisecond })
	ctx := context.Background()

	past, future := time.Now().Add(-time.Second), time.Now().Add(time.Hour)
	due := &store.Video{LiveInput: "x", State: store.VideoReady, ScheduledDeletion: &past}
	kept := &store.Video{LiveInput: "x", State: store.VideoReady, ScheduledDeletion: &future}

	for _, v := range []*store.Video{due, kept} {
		if err := n.store.CreateVideo(ctx, v); err != nil {
			t.Fatal(err)
		}

		if err := n.recordings.storage.Write(v.UID+"/index.jsonl", []byte("\n")); err != nil {
			t.Fatal(err)
		}
	}

	deadline := time.Now().Add(30 * time.Second)
	for n.call(t, "GET", "/stream/"+due.UID, nil, nil) != 404 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}

	if code := n.call(t, "GET", "/stream/"+due.UID, nil, nil); code != 404 {
		t.Fatalf("video past its scheduled deletion: GET %d, want 404", code)
	}

	root := filepath.Join(n.cfg.Data, recordingsDir)
	if _, err := os.Stat(filepath.Join(root, due.UID)); !os.IsNotExist(err) {
		t.Errorf("files of a deleted video: %v", err)
	}

	if _, err := os.Stat(filepath.Join(root, kept.UID)); err != nil ||
		n.call(t, "GET", "/stream/"+kept.UID, nil, nil) != 200 {
		t.Errorf("video not yet due was deleted: %v", err)
	}
}

// TestRecordingSurvivesSIGKILL kills `onair serve` mid-broadcast: after a
// restart the video is ready and plays every segment finished before the
// kill.
func TestRecordingSurvivesSIGKILL(t *testing.T) {
	data := t.TempDir()
	addr, rtmpAddr := freeAddr(t), freeAddr(t)
	token := strings.Repeat("ab", 24)
	account := strings.Repeat("cd", 16)
	flags := []string{"--rtmp", rtmpAddr, "--api-token", token, "--account-id", account,
		"--hwaccel", "none"}

	p := startServe(t, data, addr, flags...)
	n := &testNode{node: &node{cfg: &config{AccountID: account, APIToken: token}},
		base: "http://" + addr, rtmp: "rtmp://" + rtmpAddr + "/live/"}
	li := n.createInput(t)

	startFFmpeg(t, append(lavfi(true, true, 60), "-c:v", "libx264", "-preset", "ultrafast",
		"-g", "50", "-c:a", "aac", "-f", "flv", n.rtmp+li.RTMP.StreamKey)...)

	live := n.waitVideos(t, li.UID, "live", states("live-inprogress"))[0]
	waitSegments(t, n.base+"/"+li.UID+"/manifest/360p/index.m3u8", 3)

	p.cmd.Process.Kill()
	<-p.done

	startServe(t, data, addr, flags...)

	v := n.waitVideos(t, li.UID, "ready", states("ready"))[0]
	if v.UID != live.UID || v.Duration < 4 {
		t.Fatalf("video after SIGKILL: %+v, want %s ready with at least 4 s", v, live.UID)
	}

	d := playedSeconds(t, n.base+"/"+v.UID+"/manifest/video.m3u8")
	if math.Abs(d-v.Duration) > 1 {
		t.Errorf("recording after SIGKILL plays %.3f s, its duration is %.3f s", d, v.Duration)
	}
}
