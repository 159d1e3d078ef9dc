//go:build unix

package linttest

import (
	"syscall"
	"time"
)

// CPUTime is the CPU time (user and system) the process has used so far, for benchmarks
// that report throughput per CPU second: on a machine shared with other work, wall time
// measures the neighbours as much as the code. ok is false where it cannot be read.
func CPUTime() (d time.Duration, ok bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
