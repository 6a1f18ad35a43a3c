//go:build !unix

package sim

// processCPUSeconds is not available here: -1.
func processCPUSeconds() float64 { return -1 }
