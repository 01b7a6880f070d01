// Package edge is the caching edge of SPEC.md section 5: an HTTP cache in
// front of one or more onair origins. Concurrent misses for an object make one
// origin request whose answer every waiting viewer gets; segments stay cached
// for their whole life, playlists and MPDs for a fraction of a part or
// segment, and LL-HLS blocking reloads are forwarded once per playlist, msn and
// part. The memory the cached bodies hold is bounded, least recently used
// objects going first.
package edge
