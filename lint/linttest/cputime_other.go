//go:build !unix

package linttest

import "time"

// CPUTime is the CPU time the process has used so far; not read on this system.
func CPUTime() (d time.Duration, ok bool) { return 0, false }
