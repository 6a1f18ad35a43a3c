//go:build unix

package sim

import (
	"syscall"
	"time"
)

// processCPUTime returns the user + system CPU time this process has used,
// so that benchmarks can report work done even on a machine shared with
// other loads, where wall-clock times stretch.
func processCPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
