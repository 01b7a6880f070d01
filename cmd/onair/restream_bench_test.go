package main

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/onair/onair/internal/samples"
	"github.com/onair/onair/restream"
	"github.com/onair/onair/store"
)

// processCPU returns the CPU time this process has used, user and system.
func processCPU(tb testing.TB) time.Duration {
	tb.Helper()

	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}

	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// startCmd starts a command that is killed by its PID when the benchmark
// ends, and returns a channel closed when it exits.
func startCmd(tb testing.TB, name string, args ...string) <-chan struct{} {
	tb.Helper()

	cmd := exec.Command(name, args...)
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}

	done := make(chan struct{})

	go func() {
		cmd.Wait()
		close(done)
	}()

	tb.Cleanup(func() {
		cmd.Process.Kill()
		<-done
	})

	return done
}

// nodeCPU publishes the 720p sample clip (-c copy) once to a node whose input
// has n outputs, each an ffmpeg RTMP listener in its own process, and returns
// the node process's CPU per second of the broadcast (transcoding to the HLS
// ladder included) while every output was connected.
func nodeCPU(b *testing.B, n int) float64 {
	ctx := context.Background()
	node := startNode(b)

	li := &store.LiveInput{Enabled: true, Meta: map[string]any{},
		Recording: store.Recording{Mode: store.RecordingAutomatic, AllowedOrigins: []string{}}}
	if err := node.store.CreateLiveInput(ctx, li); err != nil {
		b.Fatal(err)
	}

	var uids []string

	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}

		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()

		startCmd(b, "ffmpeg", "-v", "error", "-listen", "1", "-i",
			fmt.Sprintf("rtmp://127.0.0.1:%d/app/key", port), "-c", "copy", "-f", "null", "-")

		o := &store.Output{InputUID: li.UID, URL: fmt.Sprintf("rtmp://127.0.0.1:%d/app", port),
			StreamKey: "key", Enabled: true}
		if err := node.store.CreateOutput(ctx, o); err != nil {
			b.Fatal(err)
		}

		uids = append(uids, o.UID)
	}

	pub := startCmd(b, "ffmpeg", "-v", "error", "-re", "-i",
		samples.Path("bbb-720p24-10s.mp4"), "-c", "copy", "-f", "flv",
		node.rtmp+li.StreamKey)

	deadline := time.Now().Add(30 * time.Second)
	for !allConnected(node.restream, li.UID, uids) {
		if time.Now().After(deadline) {
			b.Fatalf("%d outputs never all connected", n)
		}

		time.Sleep(20 * time.Millisecond)
	}

	cpu0, wall0 := processCPU(b), time.Now()
	<-pub

	cpu, wall := processCPU(b)-cpu0, time.Since(wall0)

	return cpu.Seconds() / wall.Seconds()
}

func allConnected(m *restream.Manager, inputUID string, uids []string) bool {
	for _, uid := range uids {
		if s, _ := m.Status(inputUID, uid); s.State != restream.StateConnected {
			return false
		}
	}

	return true
}

// BenchmarkRestreamNode prints the CPU of an onair node transcoding one 720p
// input and restreaming it to 10 outputs, as a ratio to the same node with 1
// output.
func BenchmarkRestreamNode(b *testing.B) {
	for range b.N {
		one := nodeCPU(b, 1)
		ten := nodeCPU(b, 10)

		b.ReportMetric(one*100, "%cpu-1-output")
		b.ReportMetric(ten*100, "%cpu-10-outputs")
		b.ReportMetric(ten/one, "ratio-10/1")
		fmt.Printf("node CPU: 1 output %.1f%%, 10 outputs %.1f%% of a core: ratio %.3f\n",
			one*100, ten*100, ten/one)
	}
}
