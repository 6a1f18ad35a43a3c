package sweep

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseSpec checks that Parse never panics, that its errors are
// *SpecError or *SpecErrors, and that a spec it accepts expands without
// error, deterministically.
func FuzzParseSpec(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/expand/*.yaml")
	examples, _ := filepath.Glob("../examples/*.yaml")
	for _, file := range append(seeds, examples...) {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("name: x\nzip: {surrogate.shape: [esser], surrogate.scale: [1]}\nexclude: {surrogate.shape: {not: esser}}\n"))
	f.Add([]byte("name: x\nbase: &b {seed: 1}\ngrid: {seed: [*b]}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("fuzz.yaml", data)
		if err != nil {
			var one *SpecError
			var many *SpecErrors
			if !errors.As(err, &one) && !errors.As(err, &many) {
				t.Fatalf("Parse error %v (%T) is not a *SpecError or *SpecErrors", err, err)
			}
			return
		}
		if !json.Valid(s.Canonical()) || len(s.Fingerprint()) != 64 {
			t.Fatalf("invalid canonical spec %s", s.Canonical())
		}
		again, err := Parse("fuzz.yaml", data)
		if err != nil || again.Fingerprint() != s.Fingerprint() {
			t.Fatalf("second Parse differs: %v", err)
		}
		if s.Count() > 2000 {
			return
		}
		tasks, err := s.Expand()
		if err != nil {
			t.Fatalf("Expand of a parsed spec: %v", err)
		}
		if len(tasks) != s.Count() {
			t.Fatalf("Expand gave %d tasks, Count() = %d", len(tasks), s.Count())
		}
		ids := map[string]bool{}
		for _, task := range tasks {
			if ids[task.ID] {
				t.Fatalf("repeated task ID %s", task.ID)
			}
			ids[task.ID] = true
		}
	})
}
