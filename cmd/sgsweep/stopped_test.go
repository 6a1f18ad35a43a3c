package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sgsweep/sgsweep/results"
	"github.com/sgsweep/sgsweep/results/resultstest"
	"github.com/sgsweep/sgsweep/results/store"
)

// stoppedStore writes resultstest.ShapeScaleStopped (sweep "fig", two
// stopped tasks) into a store in a fresh data dir and checks that the
// store keeps them as stopped.
func stoppedStore(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "state.db")
	resultstest.WriteStore(t, path, resultstest.ShapeScaleStopped(t))
	st := resultstest.OpenStore(t, path, &store.Options{ReadOnly: true})
	stopped := 0
	err := st.Records(context.Background(), "fig", func(r *results.Record) error {
		if r.State == results.StateStopped {
			stopped++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	resultstest.CloseStore(t, st)
	if stopped != 2 {
		t.Fatalf("the store keeps %d of 2 stopped results as stopped", stopped)
	}
	return dir
}

func TestResultsCommandStopped(t *testing.T) {
	dir := stoppedStore(t)
	out, _, err := runCLI(t, "results", "--data-dir", dir, "--agg", "n,stopped,mean", "fig")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"superspike                     1        1           2          0.825",
		"2 stopped (excluded from metrics; --include stopped puts in their last value)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	out, _, err = runCLI(t, "results", "--data-dir", dir, "--agg", "n,stopped,mean", "--include", "stopped", "fig")
	if err != nil {
		t.Fatal(err)
	}
	// superspike β=1: (0.82 + 0.83 + 0.74)/3 with the stopped seed 3.
	for _, want := range []string{"superspike                     1        1           3         0.7967", "2 stopped (included at their last value)"} {
		if !strings.Contains(out, want) {
			t.Errorf("--include stopped: output lacks %q:\n%s", want, out)
		}
	}
	out, _, err = runCLI(t, "export", "--data-dir", dir, "--where", "state=stopped", "fig")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "fig.csv")
	if _, errOut, err := runCLI(t, "export", "--data-dir", dir, "-o", path, "fig"); err != nil ||
		!strings.Contains(errOut, "(18 tasks, 2 of them stopped early)") {
		t.Errorf("export -o: %v, stderr %q", err, errOut)
	}
	if _, rows := resultstest.ReadCSV(t, out); len(rows) != 2 || rows[0]["stop_rule"] != "median" || rows[1]["stop_epoch"] != "1" {
		t.Errorf("export of the stopped tasks:\n%s", out)
	}
}
