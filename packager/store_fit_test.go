package packager

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onair/onair/packager/packagertest"
)

// capStore is a MemoryStore that remembers the unused capacity of every
// segment it is handed.
type capStore struct {
	MemoryStore

	mu     sync.Mutex
	slack  map[string]int
	length map[string]int
}

func (s *capStore) Put(name string, data []byte) error {
	s.mu.Lock()
	s.slack[name], s.length[name] = cap(data)-len(data), len(data)
	s.mu.Unlock()

	return s.MemoryStore.Put(name, data)
}

// TestSegmentsStoredWithoutSlack checks that segments, which grow part by
// part, reach the store without more than 1/segmentSlack of unused capacity.
func TestSegmentsStoredWithoutSlack(t *testing.T) {
	m := packagertest.Make(t, packagertest.Options{Rungs: twoRungs, Audio: true,
		Duration: 6 * time.Second})
	store := &capStore{slack: map[string]int{}, length: map[string]int{}}
	p := &Presentation{Store: store}

	if err := p.Start(m.Tracks); err != nil {
		t.Fatal(err)
	}

	for _, u := range m.Units {
		p.Write(u)
	}

	p.End()

	segments := 0
	for name, slack := range store.slack {
		if !strings.HasSuffix(name, segmentSuffix) || strings.Contains(name, "init") {
			continue
		}

		segments++

		if n := store.length[name]; slack > n/segmentSlack {
			t.Errorf("%s: %d bytes stored with %d unused", name, n, slack)
		}
	}

	if segments < 4 {
		t.Fatalf("%d segments stored, want at least 4", segments)
	}
}
