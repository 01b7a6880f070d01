package main

import (
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"syscall"
	"time"
)

// sample is what one child process cost, read from its rusage.
type sample struct {
	CPU time.Duration // user plus system time
	RSS int64         // peak resident set, bytes
}

// measure runs cmd to completion and returns its rusage (getrusage(2):
// ru_maxrss is in KiB on Linux).
func measure(cmd *exec.Cmd) (sample, error) {
	if err := cmd.Run(); err != nil {
		return sample{}, err
	}

	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return sample{}, errors.New("child rusage is not available on this system")
	}

	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())

	return sample{CPU: cpu, RSS: ru.Maxrss * 1024}, nil
}

// median returns the median CPU time and the median peak RSS of samples,
// each taken on its own.
func median(samples []sample) sample {
	if len(samples) == 0 {
		return sample{}
	}

	cpus := make([]time.Duration, len(samples))
	rss := make([]int64, len(samples))

	for i, s := range samples {
		cpus[i], rss[i] = s.CPU, s.RSS
	}

	slices.Sort(cpus)
	slices.Sort(rss)

	mid := len(samples) / 2
	if len(samples)%2 == 1 {
		return sample{CPU: cpus[mid], RSS: rss[mid]}
	}

	return sample{CPU: (cpus[mid-1] + cpus[mid]) / 2, RSS: (rss[mid-1] + rss[mid]) / 2}
}

// perMinute returns the CPU seconds spent per minute of input.
func (s sample) perMinute(input time.Duration) float64 {
	return s.CPU.Seconds() * float64(time.Minute) / float64(input)
}

// mebibytes returns the peak RSS in MiB.
func (s sample) mebibytes() float64 {
	return float64(s.RSS) / (1 << 20)
}

// String formats the sample for one output line.
func (s sample) String() string {
	return fmt.Sprintf("cpu %6.1f s  rss %6.1f MiB", s.CPU.Seconds(), s.mebibytes())
}
