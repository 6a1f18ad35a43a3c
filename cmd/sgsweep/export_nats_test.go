package main

import (
	"encoding/csv"
	"strings"
	"testing"

	"github.com/sgsweep/sgsweep/coordinator/coordtest"
)

// TestExportWithExternalNATS exports while a coordinator holds the store and
// NATS is an external server named by --nats (no nats.json), as in the
// docker-compose deployment: the coordinator's snapshot is found over NATS.
func TestExportWithExternalNATS(t *testing.T) {
	env := coordtest.NewEnv(t, coordtest.CoordinatorConfig())
	if _, err := env.Submit(coordtest.Spec(t, t.TempDir(), "ext", 3, nil, ""), false); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, err := runCLI(t, "export", "--data-dir", env.Dir, "--nats", env.Srv.URL, "ext")
	if err != nil {
		t.Fatalf("export: %v\n%s", err, stderr)
	}
	rows, err := csv.NewReader(strings.NewReader(stdout)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1+3 {
		t.Errorf("export printed %d lines, want a header and 3 tasks:\n%s", len(rows), stdout)
	}
}
