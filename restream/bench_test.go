package restream

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
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

// cpuPerSecond publishes the clip once to an input with n outputs, each an
// ffmpeg RTMP listener in its own process, and returns the CPU this process
// (ingest, hub and restream) spent per second of the broadcast while every
// output was connected.
func cpuPerSecond(b *testing.B, n int) float64 {
	cfg := &config{}
	outs := make([]Output, n)

	for i := range outs {
		port := freeTCPPort(b)
		startProcess(b, "ffmpeg", "-v", "error", "-listen", "1", "-i",
			fmt.Sprintf("rtmp://127.0.0.1:%d/app/key", port), "-c", "copy", "-f", "null", "-")
		outs[i] = Output{UID: fmt.Sprint(i), URL: fmt.Sprintf("rtmp://127.0.0.1:%d/app", port),
			StreamKey: "key", Enabled: true}
	}

	cfg.set(outs...)
	m := newManager(b, cfg, 0)
	src := startSource(b, m)
	pub := src.publish(b, 1)

	waitFor(b, "every output to connect", func() bool {
		for _, o := range outs {
			if status(m, o.UID).State != StateConnected {
				return false
			}
		}

		return true
	})

	cpu0, wall0 := processCPU(b), time.Now()
	waitProcess(b, pub)
	cpu, wall := processCPU(b)-cpu0, time.Since(wall0)

	for _, o := range outs {
		if s := status(m, o.UID); s.DroppedUnits != 0 {
			b.Errorf("output %s dropped %d units", o.UID, s.DroppedUnits)
		}
	}

	return cpu.Seconds() / wall.Seconds()
}

// waitProcess waits for a command started by startProcess to exit (and be
// reaped by it), failing the test after waitLimit.
func waitProcess(tb testing.TB, cmd *exec.Cmd) {
	tb.Helper()

	waitFor(tb, cmd.Path+" to exit", func() bool {
		return cmd.Process.Signal(syscall.Signal(0)) != nil
	})
}

// BenchmarkOutputs prints the process CPU of one input restreamed to 10
// outputs as a ratio to the same input restreamed to 1 output.
func BenchmarkOutputs(b *testing.B) {
	for range b.N {
		one := cpuPerSecond(b, 1)
		ten := cpuPerSecond(b, 10)

		b.ReportMetric(one*100, "%cpu-1-output")
		b.ReportMetric(ten*100, "%cpu-10-outputs")
		b.ReportMetric(ten/one, "ratio-10/1")
		fmt.Fprintf(os.Stdout, "restream CPU: 1 output %.1f%%, 10 outputs %.1f%% of a core: "+
			"ratio %.2f\n", one*100, ten*100, ten/one)
	}
}
