package stream

import (
	"context"
	"errors"
	"testing"
	"time"
)

func videoTrack() *Track {
	return &Track{ID: 1, Codec: CodecH264}
}

func unit(t *Track, ms int, key bool) *Unit {
	d := time.Duration(ms) * time.Millisecond
	return &Unit{Track: t, PTS: d, DTS: d, Key: key, NALUs: [][]byte{{0x65, 1, 2}}}
}

func TestHubClaim(t *testing.T) {
	cases := []struct {
		name     string
		endFirst bool
		wantErr  error
	}{
		{"second publisher refused while first holds the input", false, ErrBusy},
		{"next publisher admitted after the first ended", true, nil},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := &Hub{InputUID: "in"}
			first, err := h.Claim(PublisherInfo{Protocol: "rtmp"})
			if err != nil {
				t.Fatalf("first claim: %v", err)
			}

			if tc.endFirst {
				first.End(nil)
			}

			_, err = h.Claim(PublisherInfo{Protocol: "rtmp"})
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("second claim: got %v, want %v", err, tc.wantErr)
			}
		})
	}
}

func TestBroadcastLateReaderStartsAtKeyframe(t *testing.T) {
	h := &Hub{InputUID: "in"}
	p, _ := h.Claim(PublisherInfo{})
	v := videoTrack()
	p.Start([]*Track{v})

	p.Write(unit(v, 0, true))
	p.Write(unit(v, 40, false))
	p.Write(unit(v, 80, true))
	p.Write(unit(v, 120, false))

	r, err := h.Subscribe("late", 8)
	if err != nil {
		t.Fatal(err)
	}

	p.Write(unit(v, 160, false))
	p.End(nil)

	var got []time.Duration
	for u := range r.Units() {
		got = append(got, u.DTS)
	}

	want := []time.Duration{80 * time.Millisecond, 120 * time.Millisecond, 160 * time.Millisecond}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}

	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}

	if !errors.Is(r.Err(), ErrEnded) {
		t.Fatalf("reason: got %v, want %v", r.Err(), ErrEnded)
	}
}

func TestBroadcastDropsSlowReader(t *testing.T) {
	v := videoTrack()
	b := NewBroadcast([]*Track{v}, nil)
	slow := b.NewReader("slow", 2)
	fast := b.NewReader("fast", 100)

	for i := range 10 {
		b.Write(unit(v, i*40, i == 0))
	}

	n := 0
	for range slow.Units() {
		n++
	}

	if n != 2 || !errors.Is(slow.Err(), ErrSlowReader) {
		t.Fatalf("slow reader: got %d units and %v, want 2 and %v", n, slow.Err(), ErrSlowReader)
	}

	if len(fast.Units()) != 10 || fast.Err() != nil {
		t.Fatalf("fast reader: got %d queued and %v, want 10 and nil", len(fast.Units()), fast.Err())
	}
}

func TestHubKickCancelsPublisher(t *testing.T) {
	h := &Hub{InputUID: "in"}
	p, _ := h.Claim(PublisherInfo{})
	reason := errors.New("input disabled")
	h.Kick(reason)

	select {
	case <-p.Context().Done():
	case <-time.After(time.Second):
		t.Fatal("publisher context not cancelled")
	}

	if got := context.Cause(p.Context()); !errors.Is(got, reason) {
		t.Fatalf("cause: got %v, want %v", got, reason)
	}
}
