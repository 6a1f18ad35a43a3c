//go:build unix

package sim

import "syscall"

// processCPUSeconds returns the CPU time (user + system) the process has
// used, in s; on a shared machine it measures the work of a benchmark
// better than wall-clock time does.
func processCPUSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return -1
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
