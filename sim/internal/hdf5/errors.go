package hdf5

import (
	"errors"
	"fmt"
)

// ErrCorrupt is wrapped by every error caused by a malformed or truncated
// file: a bad signature or checksum, a field out of range, a structure that
// runs past the end of the file.
var ErrCorrupt = errors.New("corrupt or truncated HDF5 file")

// UnsupportedError reports a valid HDF5 feature this reader does not
// implement. Feature names it, in the specification's terms.
type UnsupportedError struct {
	Feature string
}

func (e *UnsupportedError) Error() string {
	return "unsupported HDF5 feature: " + e.Feature
}

func unsupported(format string, args ...any) error {
	return &UnsupportedError{Feature: fmt.Sprintf(format, args...)}
}

// corrupt returns an error wrapping ErrCorrupt.
func corrupt(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), ErrCorrupt)
}
