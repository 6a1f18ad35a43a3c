// Package golden compares test output with golden files under testdata/,
// the one implementation every package's tests share. Run a package's tests
// with -update to rewrite its golden files after a deliberate change:
//
//	go test ./results -run Golden -update
package golden

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

// update is the one flag name for rewriting golden files.
var update = flag.Bool("update", false, "rewrite the golden files under testdata/ instead of comparing with them")

// Updating reports whether the tests run with -update, for a test that
// writes a golden file in its own way.
func Updating() bool { return *update }

// Check compares got with the file at path (relative to the test's
// package directory, e.g. testdata/query.txt), or writes got to it when the
// tests run with -update.
func Check(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from the golden file (run with -update to accept):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}
