package main

import (
	"fmt"

	"github.com/onair/onair/ingest/srt"
	"github.com/onair/onair/transcode"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// printVersion prints the version and the media capabilities found.
func printVersion() int {
	fmt.Printf("onair %s\n", version)

	for _, line := range transcode.Capabilities() {
		fmt.Println(line)
	}

	fmt.Printf("libsrt: %s\n", srt.LibraryVersion())

	res, _ := transcode.ProbeEncoders(transcode.HWAccelAuto)
	fmt.Printf("hwaccel auto: ladders use %s (%s)\n", res.Encoder, res.Reasons())

	return 0
}
