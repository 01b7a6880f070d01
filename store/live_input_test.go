package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"testing"
)

var hex32 = regexp.MustCompile(`^[0-9a-f]{32}$`)

func newInput(t *testing.T, s *Store, name string) *LiveInput {
	t.Helper()

	in := &LiveInput{Enabled: true, Meta: map[string]any{"name": name},
		Recording: Recording{Mode: RecordingAutomatic}}
	if err := s.CreateLiveInput(context.Background(), in); err != nil {
		t.Fatal(err)
	}

	return in
}

func credentials(in *LiveInput) map[string]string {
	return map[string]string{
		"StreamKey": in.StreamKey, "PlaybackKey": in.PlaybackKey,
		"SRTStreamID": in.SRTStreamID, "SRTPassphrase": in.SRTPassphrase,
		"SRTPlaybackStreamID":   in.SRTPlaybackStreamID,
		"SRTPlaybackPassphrase": in.SRTPlaybackPassphrase,
	}
}

func TestCreateLiveInput(t *testing.T) {
	s, _ := openTemp(t)
	a := newInput(t, s, "a")
	b := newInput(t, s, "b")

	seen := map[string]bool{}
	for _, in := range []*LiveInput{a, b} {
		values := credentials(in)
		values["UID"] = in.UID

		for name, v := range values {
			if !hex32.MatchString(v) {
				t.Errorf("%s %q is not 32 lowercase hex digits", name, v)
			}

			if seen[v] {
				t.Errorf("%s %q repeats another value", name, v)
			}

			seen[v] = true
		}

		if in.Created.IsZero() || in.Created.Location().String() != "UTC" {
			t.Errorf("created %v, want a UTC time", in.Created)
		}

		if in.Recording.AllowedOrigins == nil {
			t.Error("allowed origins nil, want empty")
		}
	}

	list, err := s.ListLiveInputs(context.Background())
	if err != nil {
		t.Fatal(err)
	}

	if len(list) != 2 || list[0].UID != a.UID || list[1].UID != b.UID {
		t.Errorf("list %v, want [%s %s]", list, a.UID, b.UID)
	}
}

func TestLiveInputByCredential(t *testing.T) {
	s, _ := openTemp(t)
	a := newInput(t, s, "a")
	newInput(t, s, "b")
	ctx := context.Background()

	tests := []struct {
		name   string
		lookup func(context.Context, string) (*LiveInput, error)
		key    string
	}{
		{"stream key", s.LiveInputByStreamKey, a.StreamKey},
		{"playback key", s.LiveInputByPlaybackKey, a.PlaybackKey},
		{"srt stream id", s.LiveInputBySRTStreamID, a.SRTStreamID},
		{"srt playback stream id", s.LiveInputBySRTPlaybackStreamID, a.SRTPlaybackStreamID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, err := tt.lookup(ctx, tt.key)
			if err != nil {
				t.Fatal(err)
			}

			if in.UID != a.UID {
				t.Errorf("found %s, want %s", in.UID, a.UID)
			}

			for _, wrong := range []string{"", strings.ToUpper(tt.key), tt.key + "0", a.UID,
				a.SRTPassphrase} {
				_, err := tt.lookup(ctx, wrong)
				if !errors.Is(err, ErrNotFound) {
					t.Errorf("lookup of %q: %v, want ErrNotFound", wrong, err)
				}

				if wrong != "" && err != nil && strings.Contains(err.Error(), wrong) {
					t.Errorf("error %q contains the credential", err)
				}
			}
		})
	}
}

func TestUpdateLiveInput(t *testing.T) {
	s, _ := openTemp(t)
	in := newInput(t, s, "a")
	ctx := context.Background()

	days := 30
	got, err := s.UpdateLiveInput(ctx, in.UID, func(e *LiveInput) error {
		e.Enabled = false
		e.Meta = map[string]any{"name": "b"}
		e.DeleteRecordingAfterDays = &days
		e.Recording.AllowedOrigins = []string{"*.example.com"}
		e.StreamKey = "ignored"
		e.UID = "ignored"

		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	again, err := s.GetLiveInput(ctx, in.UID)
	if err != nil {
		t.Fatal(err)
	}

	for _, x := range []*LiveInput{got, again} {
		if x.Enabled || x.Meta["name"] != "b" || *x.DeleteRecordingAfterDays != 30 ||
			x.Recording.AllowedOrigins[0] != "*.example.com" {
			t.Errorf("update not applied: %+v", x)
		}

		if x.StreamKey != in.StreamKey || x.UID != in.UID || !x.Created.Equal(in.Created) {
			t.Errorf("update changed uid, credentials or created: %+v", x)
		}

		if !x.Modified.After(in.Modified) {
			t.Errorf("modified %v not after %v", x.Modified, in.Modified)
		}
	}

	refused := errors.New("refused")

	_, err = s.UpdateLiveInput(ctx, in.UID, func(e *LiveInput) error {
		e.Enabled = true

		return refused
	})
	if !errors.Is(err, refused) {
		t.Errorf("update error %v, want %v", err, refused)
	}

	again, err = s.GetLiveInput(ctx, in.UID)
	if err != nil {
		t.Fatal(err)
	}

	if again.Enabled {
		t.Error("a failed update was written")
	}

	_, err = s.UpdateLiveInput(ctx, "nope", func(*LiveInput) error { return nil })
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("update of unknown uid: %v, want ErrNotFound", err)
	}
}

func TestUpdateLiveInputConcurrent(t *testing.T) {
	s, _ := openTemp(t)
	in := newInput(t, s, "a")
	ctx := context.Background()

	const writers = 8

	var wg sync.WaitGroup

	errs := make(chan error, writers)
	for i := range writers {
		wg.Go(func() {
			_, err := s.UpdateLiveInput(ctx, in.UID, func(e *LiveInput) error {
				e.Meta[fmt.Sprint(i)] = true

				return nil
			})
			errs <- err
		})
	}

	wg.Wait()
	close(errs)

	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}

	got, err := s.GetLiveInput(ctx, in.UID)
	if err != nil {
		t.Fatal(err)
	}

	if len(got.Meta) != writers+1 {
		t.Errorf("meta %v: lost updates, want %d keys", got.Meta, writers+1)
	}
}

func TestRotateKeys(t *testing.T) {
	s, _ := openTemp(t)
	in := newInput(t, s, "a")
	ctx := context.Background()

	got, err := s.RotateKeys(ctx, in.UID)
	if err != nil {
		t.Fatal(err)
	}

	old, fresh := credentials(in), credentials(got)
	for name := range old {
		if old[name] == fresh[name] || !hex32.MatchString(fresh[name]) {
			t.Errorf("%s %q not rotated (was %q)", name, fresh[name], old[name])
		}
	}

	if _, err := s.LiveInputByStreamKey(ctx, in.StreamKey); !errors.Is(err, ErrNotFound) {
		t.Errorf("old stream key still opens the input: %v", err)
	}

	if _, err := s.LiveInputBySRTStreamID(ctx, got.SRTStreamID); err != nil {
		t.Errorf("new SRT stream id: %v", err)
	}

	stored, err := s.GetLiveInput(ctx, in.UID)
	if err != nil {
		t.Fatal(err)
	}

	if stored.StreamKey != got.StreamKey {
		t.Error("rotated keys not stored")
	}

	if _, err := s.RotateKeys(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("rotate of unknown uid: %v, want ErrNotFound", err)
	}
}

func TestSetLiveInputStatus(t *testing.T) {
	s, _ := openTemp(t)
	in := newInput(t, s, "a")
	ctx := context.Background()

	tests := []struct {
		uid, state string
		want       error
	}{
		{in.UID, StateConnected, nil},
		{in.UID, StateClientDisconnect, nil},
		{in.UID, "dancing", ErrInvalidState},
		{"nope", StateConnected, ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.state+" "+tt.uid, func(t *testing.T) {
			err := s.SetLiveInputStatus(ctx, tt.uid, tt.state, "because")
			if !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}

			if err != nil {
				return
			}

			got, err := s.GetLiveInput(ctx, tt.uid)
			if err != nil {
				t.Fatal(err)
			}

			if got.Status == nil || got.Status.State != tt.state || got.Status.Reason != "because" ||
				got.Status.Time.IsZero() {
				t.Errorf("status %+v, want %s because", got.Status, tt.state)
			}

			if !got.Modified.Equal(in.Modified) {
				t.Error("status changed modified")
			}
		})
	}
}

func TestDeleteLiveInput(t *testing.T) {
	s, _ := openTemp(t)
	in := newInput(t, s, "a")
	ctx := context.Background()

	if err := s.DeleteLiveInput(ctx, in.UID); err != nil {
		t.Fatal(err)
	}

	if _, err := s.GetLiveInput(ctx, in.UID); !errors.Is(err, ErrNotFound) {
		t.Errorf("get after delete: %v, want ErrNotFound", err)
	}

	if _, err := s.LiveInputByStreamKey(ctx, in.StreamKey); !errors.Is(err, ErrNotFound) {
		t.Errorf("stream key after delete: %v, want ErrNotFound", err)
	}

	if err := s.DeleteLiveInput(ctx, in.UID); !errors.Is(err, ErrNotFound) {
		t.Errorf("second delete: %v, want ErrNotFound", err)
	}
}

func TestLiveInputHidesCredentials(t *testing.T) {
	s, _ := openTemp(t)
	in := newInput(t, s, "a")

	var logged strings.Builder

	slog.New(slog.NewTextHandler(&logged, nil)).Info("x", "input", in)

	for _, out := range []string{fmt.Sprint(in), fmt.Sprintf("%v", in), logged.String()} {
		for name, v := range credentials(in) {
			if strings.Contains(out, v) {
				t.Errorf("%q shows %s", out, name)
			}
		}

		if !strings.Contains(out, in.UID) {
			t.Errorf("%q does not name the uid", out)
		}
	}
}
