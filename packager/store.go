package packager

import "sync"

// Store keeps the named byte blobs of a presentation: init segments and media
// segments. Names are slash-separated paths such as "720p/k3/seg_42.m4s".
// Implementations must be safe for concurrent use.
type Store interface {
	// Put stores data under name, replacing any previous blob. The caller does
	// not modify data afterwards.
	Put(name string, data []byte) error

	// Get returns the blob stored under name, or ErrNotFound. The caller must
	// not modify the returned slice.
	Get(name string) ([]byte, error)

	// Delete removes the blob stored under name; deleting a missing name is not
	// an error.
	Delete(name string) error
}

// MemoryStore is a Store that keeps blobs in memory. The zero value is ready.
type MemoryStore struct {
	mu    sync.RWMutex
	blobs map[string][]byte
}

// Put implements Store.
func (s *MemoryStore) Put(name string, data []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()

	if s.blobs == nil {
		s.blobs = map[string][]byte{}
	}

	s.blobs[name] = data

	return nil
}

// Get implements Store.
func (s *MemoryStore) Get(name string) ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()

	data, ok := s.blobs[name]
	if !ok {
		return nil, ErrNotFound
	}

	return data, nil
}

// Delete implements Store.
func (s *MemoryStore) Delete(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()

	delete(s.blobs, name)

	return nil
}

// Len returns the number of blobs held.
func (s *MemoryStore) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()

	return len(s.blobs)
}
