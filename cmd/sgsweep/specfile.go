package main

import (
	"os"

	"github.com/sgsweep/sgsweep/sweep"
)

// readSpec reads and checks the spec file at path, returning its content
// (sent to the coordinator as submitted) and the parsed spec. Its errors
// are usage errors (exit status 2).
func readSpec(path string) ([]byte, *sweep.Spec, error) {
	source, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, usageError{err}
	}
	spec, err := sweep.Parse(path, source)
	if err != nil {
		return nil, nil, usageError{err}
	}
	return source, spec, nil
}
