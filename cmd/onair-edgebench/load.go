package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// load is one run of the load generator against one URL.
type load struct {
	Duration    time.Duration
	Connections int
	Threads     int
}

// wrkRate is wrk's summary line of requests per second.
var wrkRate = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)

// wrkErrors are wrk's lines about failed or non-2xx requests.
var wrkErrors = regexp.MustCompile(`(Non-2xx or 3xx responses|Socket errors):.*`)

// rate returns the requests per second url sustains: with wrk when it is
// installed, else with a Go loop of as many connections.
func (l load) rate(ctx context.Context, url string) (float64, string, error) {
	if _, err := exec.LookPath("wrk"); err != nil {
		r, err := l.goRate(ctx, url)

		return r, "go", err
	}

	cmd := exec.CommandContext(ctx, "wrk", "-t", strconv.Itoa(l.Threads),
		"-c", strconv.Itoa(l.Connections), "-d", l.Duration.String(), url)

	var stderr bytes.Buffer
	cmd.Stderr = &stderr

	out, err := cmd.Output()
	if err != nil {
		return 0, "wrk", fmt.Errorf("wrk: %w: %s", err, stderr.Bytes())
	}

	if m := wrkErrors.Find(out); m != nil {
		return 0, "wrk", fmt.Errorf("wrk %s: %s", url, m)
	}

	m := wrkRate.FindSubmatch(out)
	if m == nil {
		return 0, "wrk", fmt.Errorf("wrk printed no rate: %s", out)
	}

	r, err := strconv.ParseFloat(string(m[1]), 64)

	return r, "wrk", err
}

// goRate drives url from Connections goroutines with keep-alive connections.
func (l load) goRate(ctx context.Context, url string) (float64, error) {
	tr := &http.Transport{MaxIdleConnsPerHost: l.Connections, DisableCompression: true}
	defer tr.CloseIdleConnections()

	client := &http.Client{Transport: tr}

	ctx, cancel := context.WithTimeout(ctx, l.Duration)
	defer cancel()

	var (
		n     atomic.Int64
		wg    sync.WaitGroup
		first atomic.Value
	)

	start := time.Now()

	for range l.Connections {
		wg.Add(1)

		go func() {
			defer wg.Done()

			for ctx.Err() == nil {
				if err := fetch(ctx, client, url); err != nil {
					if ctx.Err() == nil {
						first.CompareAndSwap(nil, err)
					}

					return
				}

				n.Add(1)
			}
		}()
	}

	wg.Wait()

	if err, ok := first.Load().(error); ok {
		return 0, err
	}

	return float64(n.Load()) / time.Since(start).Seconds(), nil
}

// fetch GETs url, reads the body away and wants 200.
func fetch(ctx context.Context, client *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}

	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()

	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}

	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: status %d", url, resp.StatusCode)
	}

	return nil
}
