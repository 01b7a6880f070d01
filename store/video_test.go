package store

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

func TestVideos(t *testing.T) {
	ctx := context.Background()

	s, err := Open(filepath.Join(t.TempDir(), "onair.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })

	past := time.Now().Add(-time.Hour).UTC()
	videos := []*Video{
		{LiveInput: "a", Creator: "ann", State: VideoReady, Duration: 10, ScheduledDeletion: &past},
		{LiveInput: "a", Creator: "bob", State: VideoLive, Duration: -1},
		{LiveInput: "b", Creator: "ann", State: VideoReady, Duration: 3,
			Meta: map[string]any{"name": "x"}},
	}

	for _, v := range videos {
		if err := s.CreateVideo(ctx, v); err != nil {
			t.Fatal(err)
		}

		time.Sleep(time.Millisecond) // distinct creation times, for the order
	}

	tests := []struct {
		name   string
		filter VideoFilter
		want   []*Video
	}{
		{"all, newest first", VideoFilter{}, []*Video{videos[2], videos[1], videos[0]}},
		{"oldest first", VideoFilter{Asc: true}, videos},
		{"input", VideoFilter{LiveInput: "a"}, []*Video{videos[1], videos[0]}},
		{"creator", VideoFilter{Creator: "ann", Asc: true}, []*Video{videos[0], videos[2]}},
		{"live", VideoFilter{State: VideoLive}, []*Video{videos[1]}},
		{"start", VideoFilter{Start: videos[1].Created, Asc: true}, videos[1:]},
		{"end", VideoFilter{End: videos[1].Created}, videos[:1]},
		{"limit", VideoFilter{Limit: 1}, videos[2:]},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.ListVideos(ctx, tt.filter)
			if err != nil {
				t.Fatal(err)
			}

			if len(got) != len(tt.want) {
				t.Fatalf("got %d videos, want %d", len(got), len(tt.want))
			}

			for i := range got {
				if got[i].UID != tt.want[i].UID {
					t.Errorf("video %d is %s, want %s", i, got[i].UID, tt.want[i].UID)
				}
			}
		})
	}

	v, err := s.UpdateVideo(ctx, videos[1].UID, func(v *Video) error {
		v.State, v.Duration, v.Size = VideoReady, 12.5, 1000
		return nil
	})
	if err != nil || v.State != VideoReady {
		t.Fatalf("update: %v %+v", err, v)
	}

	got, err := s.GetVideo(ctx, videos[1].UID)
	if err != nil || got.Duration != 12.5 || got.Size != 1000 || got.Meta == nil ||
		!got.Created.Equal(videos[1].Created) {
		t.Errorf("after update: %+v (%v)", got, err)
	}

	due, err := s.VideosDueForDeletion(ctx, time.Now())
	if err != nil || len(due) != 1 || due[0].UID != videos[0].UID {
		t.Errorf("due for deletion: %v (%v)", due, err)
	}

	if err := s.DeleteVideo(ctx, videos[0].UID); err != nil {
		t.Fatal(err)
	}

	if _, err := s.GetVideo(ctx, videos[0].UID); !errors.Is(err, ErrNotFound) {
		t.Errorf("get after delete: %v", err)
	}

	if err := s.DeleteVideo(ctx, videos[0].UID); !errors.Is(err, ErrNotFound) {
		t.Errorf("second delete: %v", err)
	}
}
