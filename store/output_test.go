package store

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

func TestOutputs(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	in := newInput(t, s, "a")
	other := newInput(t, s, "b")

	o := &Output{InputUID: in.UID, URL: "rtmp://127.0.0.1:1/live", StreamKey: "k1",
		Enabled: true}
	if err := s.CreateOutput(ctx, o); err != nil {
		t.Fatal(err)
	}

	if !hex32.MatchString(o.UID) || o.Created.IsZero() {
		t.Errorf("created output uid %q at %v, want 32 hex digits and a time", o.UID, o.Created)
	}

	got, err := s.GetOutput(ctx, in.UID, o.UID)
	if err != nil {
		t.Fatal(err)
	}

	if got.URL != o.URL || got.StreamKey != "k1" || !got.Enabled || got.TLSSkipVerify {
		t.Errorf("stored %+v, want %+v", got, o)
	}

	if _, err := s.GetOutput(ctx, other.UID, o.UID); !errors.Is(err, ErrNotFound) {
		t.Errorf("output read through another input: %v, want ErrNotFound", err)
	}

	off, err := s.SetOutputEnabled(ctx, in.UID, o.UID, false)
	if err != nil || off.Enabled {
		t.Errorf("disable: %+v, %v", off, err)
	}

	if fmt.Sprint(off) != "output "+o.UID || fmt.Sprintf("%v", off) == "k1" {
		t.Errorf("output prints as %q", fmt.Sprint(off))
	}

	tests := []struct {
		name string
		err  error
		fn   func() error
	}{
		{"create on missing input", ErrNotFound, func() error {
			return s.CreateOutput(ctx, &Output{InputUID: "nope", URL: "rtmp://x/y"})
		}},
		{"list of missing input", ErrNotFound, func() error {
			_, err := s.ListOutputs(ctx, "nope")
			return err
		}},
		{"enable missing output", ErrNotFound, func() error {
			_, err := s.SetOutputEnabled(ctx, in.UID, "nope", true)
			return err
		}},
		{"delete missing output", ErrNotFound, func() error {
			return s.DeleteOutput(ctx, in.UID, "nope")
		}},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.fn(); !errors.Is(err, tt.err) {
				t.Errorf("got %v, want %v", err, tt.err)
			}
		})
	}

	if err := s.DeleteOutput(ctx, in.UID, o.UID); err != nil {
		t.Fatal(err)
	}

	list, err := s.ListOutputs(ctx, in.UID)
	if err != nil || len(list) != 0 {
		t.Errorf("after delete: %d outputs, %v", len(list), err)
	}
}

func TestOutputLimitAndCascade(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	in := newInput(t, s, "a")

	for i := range MaxOutputsPerInput {
		o := &Output{InputUID: in.UID, URL: fmt.Sprintf("rtmp://127.0.0.1:%d/live", i+1)}
		if err := s.CreateOutput(ctx, o); err != nil {
			t.Fatalf("output %d: %v", i+1, err)
		}
	}

	err := s.CreateOutput(ctx, &Output{InputUID: in.UID, URL: "rtmp://127.0.0.1/live"})
	if !errors.Is(err, ErrTooManyOutputs) {
		t.Errorf("output %d: %v, want ErrTooManyOutputs", MaxOutputsPerInput+1, err)
	}

	list, err := s.ListOutputs(ctx, in.UID)
	if err != nil || len(list) != MaxOutputsPerInput {
		t.Fatalf("listed %d outputs, %v; want %d", len(list), err, MaxOutputsPerInput)
	}

	if list[0].URL != "rtmp://127.0.0.1:1/live" {
		t.Errorf("first listed %q, want the oldest", list[0].URL)
	}

	if err := s.DeleteLiveInput(ctx, in.UID); err != nil {
		t.Fatal(err)
	}

	var n int
	if err := s.db.QueryRow(`SELECT COUNT(*) FROM outputs`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d outputs left after deleting their input (%v)", n, err)
	}
}
