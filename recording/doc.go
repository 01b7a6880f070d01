// Package recording keeps every broadcast of a live input as a video: it
// writes each init and media segment the packager finishes to a Storage,
// with an append-only index that survives a crash of the process, and
// rebuilds an ended presentation from them for VOD playback.
package recording
