package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/onair/onair/transcode"
)

// shutdownTimeout bounds a clean stop after SIGINT or SIGTERM (SPEC §1).
const shutdownTimeout = 10 * time.Second

// serve runs `onair serve` until a signal arrives and returns the exit code.
func serve(args []string) int {
	cfg, err := loadConfig(args, os.Getenv, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}

	if err != nil {
		fmt.Fprintf(os.Stderr, "onair serve: %v\n", err)
		return 2
	}

	transcode.SetMemoryDefaults()

	log := newLogger(cfg)
	n := &node{cfg: cfg, log: log}

	if err := n.Start(); err != nil {
		log.Error("start failed", "error", err)
		return 1
	}

	if n.tokenGenerated {
		printFirstStart(n)
	} else if n.tokenFile != "" {
		log.Info("api token kept in data directory", "file", n.tokenFile)
	}

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	s := <-sig
	log.Info("shutting down", "signal", s.String())

	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()

	if err := n.Shutdown(ctx); err != nil {
		log.Error("shutdown", "error", err)
		return 1
	}

	log.Info("stopped")

	return 0
}

// printFirstStart shows the generated token once, with a line to paste.
func printFirstStart(n *node) {
	fmt.Printf(`
onair generated an API token for account %s and kept it in %s.
It is shown only now. Create a live input with:

  curl -X POST -H 'Authorization: Bearer %s' \
    %s/client/v4/accounts/%s/stream/live_inputs

`, n.cfg.AccountID, n.cfg.Data, n.cfg.APIToken, n.apiBaseURL(), n.cfg.AccountID)
}
