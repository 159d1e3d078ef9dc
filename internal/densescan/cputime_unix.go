//go:build unix

package densescan

import (
	"syscall"
	"time"
)

// CPUTime is the processor time (user and system) this process has used so far: on a
// machine shared with other work, a benchmark's CPU time per operation is steadier than
// its wall time, which waits for a core.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
