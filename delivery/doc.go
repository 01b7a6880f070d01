// Package delivery serves playback over HTTP: the HLS playlists and CMAF
// segments a packager.Presentation holds, and the lifecycle of a live input,
// with the CORS headers that players embedded in other origins need
// (SPEC.md section 3).
package delivery
