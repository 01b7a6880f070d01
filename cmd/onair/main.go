// Command onair is a self-hosted live video platform: RTMP ingest, an adaptive
// H.264 ladder, HLS playback and a REST API shaped like Cloudflare Stream's.
//
// Usage:
//
//	onair serve [flags]   run everything on this machine
//	onair version         print the version and the media capabilities found
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}

	os.Exit(runCommand(os.Args[1], os.Args[2:]))
}
