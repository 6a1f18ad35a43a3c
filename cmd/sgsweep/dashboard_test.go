package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sgsweep/sgsweep/coordinator/coordtest"
)

// TestDashboardCommand: `sgsweep dashboard` serves a store read-only and
// says where; the results table is the one `sgsweep results` prints.
func TestDashboardCommand(t *testing.T) {
	dir := analysisStore(t)
	p := startSgsweep(t, nil, "dashboard", "--data-dir", dir, "--http", "127.0.0.1:0")
	line := p.waitLine(20*time.Second, "the dashboard's URL", func(l string) bool { return strings.HasPrefix(l, "dashboard: http://") })
	base := strings.TrimPrefix(line, "dashboard: ")
	resp, err := http.Get(base + "sweeps/fig/table.csv?group-by=surrogate.shape")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	out, _, err := runCLI(t, "results", "--data-dir", dir, "--format", "csv", "--group-by", "surrogate.shape", "fig")
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || string(body) != out {
		t.Errorf("dashboard table.csv (%d):\n%s\nsgsweep results:\n%s", resp.StatusCode, body, out)
	}
	page, err := http.Get(base)
	if err != nil {
		t.Fatal(err)
	}
	text, _ := io.ReadAll(page.Body)
	page.Body.Close()
	if !strings.Contains(string(text), "read-only store") || !strings.Contains(string(text), `href="/sweeps/fig"`) {
		t.Errorf("sweeps page:\n%s", text)
	}
}

// TestRunServesDashboard: `sgsweep run --http` prints the dashboard's URL
// once it listens and serves /metrics while the sweep runs.
func TestRunServesDashboard(t *testing.T) {
	dir := t.TempDir()
	spec := coordtest.Spec(t, dir, "runhttp", 4, []float64{0.01}, "")
	p := startSgsweep(t, &coordtest.Fake{Sleep: 2 * time.Second}, append([]string{"run", "--data-dir", dir, "--workers", "1",
		"--progress", "none", "--http", "127.0.0.1:0"}, append(fastFlags, spec)...)...)
	line := p.waitLine(20*time.Second, "the dashboard's URL", func(l string) bool { return strings.HasPrefix(l, "dashboard: http://") })
	resp, err := http.Get(strings.TrimPrefix(line, "dashboard: ") + "metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `sgsweep_tasks{state="pending",sweep="runhttp"}`) {
		t.Errorf("/metrics of a run (%d):\n%.2000s", resp.StatusCode, body)
	}
	if code := p.wait(60 * time.Second); code != 0 {
		t.Errorf("run exited %d", code)
	}
}
