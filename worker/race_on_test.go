//go:build race

package worker_test

// raceDetector: the race detector reserves far more address space than
// the task processes' ulimit -v allows.
const raceDetector = true
