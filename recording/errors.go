package recording

import "errors"

// ErrStorageFull is reported by Writer.Err when the storage refused a write
// for lack of space; the segments written before stay playable.
var ErrStorageFull = errors.New("recording storage full")

// ErrClosed is reported by Writer.Err for segments that came after Close.
var ErrClosed = errors.New("recording closed")
