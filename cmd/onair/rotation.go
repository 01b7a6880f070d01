package main

import "errors"

// errKeysRotated cuts off a publisher whose keys were rotated.
var errKeysRotated = errors.New("stream keys rotated")

// noteKeysLocked records the stream key an input has now, as the API
// reported it; in.mu is held.
func (in *inputs) noteKeysLocked(uid, streamKey string) {
	if in.latest == nil {
		in.latest = map[string]string{}
	}

	in.latest[uid] = streamKey
}

// staleKeyLocked says whether the last publisher of uid was admitted with a
// stream key rotated away since: one looked up just before a rotation
// committed, which the rotation's kick came too early to cut off. in.mu is
// held.
func (in *inputs) staleKeyLocked(uid string) bool {
	latest, ok := in.latest[uid]

	return ok && in.keys[uid] != "" && in.keys[uid] != latest
}
