package main

import (
	"fmt"
	"os"
)

const usage = `usage: onair <command> [flags]

commands:
  serve     run the live video server (ingest, transcoding, playback, API)
  edge      run a caching edge in front of one or more origins
  version   print the version and the media capabilities found

Run "onair serve -h" or "onair edge -h" for the flags of each.
`

// runCommand dispatches a subcommand and returns the process exit code.
func runCommand(name string, args []string) int {
	switch name {
	case "serve":
		return serve(args)
	case "edge":
		return runEdge(args)
	case "version":
		return printVersion()
	case "-h", "--help", "help":
		fmt.Print(usage)
		return 0
	}

	fmt.Fprintf(os.Stderr, "onair: unknown command %q\n\n%s", name, usage)

	return 2
}
