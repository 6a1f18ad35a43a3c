package main

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// TestSpecFileErrors: run and submit refuse a missing or invalid spec file
// with exit status 2 and an error naming the file, before connecting to
// anything.
func TestSpecFileErrors(t *testing.T) {
	bad := writeFile(t, "bad.yaml", "name: bad\ngrid:\n  surrogate.shape: [nope]\n")
	missing := filepath.Join(t.TempDir(), "missing.yaml")
	for _, cmd := range []string{"run", "submit"} {
		for _, tc := range []struct {
			name, path, want string
		}{
			{"missing", missing, "missing.yaml"},
			{"invalid", bad, "bad.yaml:3"},
		} {
			t.Run(cmd+" "+tc.name, func(t *testing.T) {
				_, _, err := runCLI(t, cmd, "--data-dir", t.TempDir(), tc.path)
				var ec exitCoder
				if !errors.As(err, &ec) || ec.ExitCode() != 2 || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("%s %s: err = %v, want exit status 2 and an error naming %s", cmd, tc.path, err, tc.want)
				}
			})
		}
	}
}
