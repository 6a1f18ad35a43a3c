package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sgsweep/sgsweep/protocol"
	"github.com/sgsweep/sgsweep/results"
	"github.com/sgsweep/sgsweep/results/store"
	"github.com/sgsweep/sgsweep/sim"
	"github.com/sgsweep/sgsweep/sweep"
)

// analysisStore writes a small finished sweep "fig" into a real store in a
// fresh data dir, through the store's API as the coordinator would: two
// shapes × three scales × three seeds, test accuracy 0.5 + 0.1·log10(β) +
// 0.01·seed, minus 0.05 for sigmoid; one task failed.
func analysisStore(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	s, err := store.Open(filepath.Join(dir, "state.db"), &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	plan := &store.Plan{Name: "fig", Fingerprint: "test"}
	var in []store.Incoming
	for _, shape := range []string{"superspike", "sigmoid"} {
		for _, scale := range []float64{1, 10, 100} {
			for seed := uint64(1); seed <= 3; seed++ {
				cfg := sim.DefaultConfig()
				cfg.Surrogate.Shape, cfg.Surrogate.Scale, cfg.Seed = shape, scale, seed
				cfg.Train.Epochs = 2
				params, err := sweep.Canonical(cfg)
				if err != nil {
					t.Fatal(err)
				}
				id := sweep.TaskID(params)
				plan.Tasks = append(plan.Tasks, store.PlanTask{ID: id, Params: params})
				msg := &protocol.ResultMsg{Schema: protocol.SchemaResult, Sweep: "fig", TaskID: id, Status: protocol.StatusOK, Params: params,
					Provenance: protocol.Provenance{Host: "h", Worker: "h/1", Attempt: 1}}
				if shape == "sigmoid" && scale == 100 && seed == 3 {
					msg.Status, msg.Error = protocol.StatusFailed, "boom"
				} else {
					acc := 0.5 + 0.1*math.Log10(scale) + 0.01*float64(seed)
					if shape == "sigmoid" {
						acc -= 0.05
					}
					msg.Result = &sim.Result{Status: sim.StatusOK, BestEpoch: 2, BestValAcc: acc, TestAcc: acc, TestAccLast: acc,
						Epochs: []sim.Epoch{{Epoch: 1, ValAcc: acc / 2, Spikes: []float64{1}, Silent: []float64{0}},
							{Epoch: 2, ValAcc: acc, Spikes: []float64{1}, Silent: []float64{0}}}}
				}
				raw, _ := json.Marshal(msg)
				in = append(in, store.Incoming{Result: msg, Raw: raw})
			}
		}
	}
	ctx := context.Background()
	if _, err := s.PlanSweep(ctx, plan); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Commit(ctx, in, nil, nil); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestResultsCommand(t *testing.T) {
	dir := analysisStore(t)
	out, _, err := runCLI(t, "results", "--data-dir", dir, "fig")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"surrogate.shape  surrogate.scale  expected  test_acc.n  test_acc.mean",
		"superspike                    10         3           3           0.62",
		"sigmoid                      100         3           2",
		"18 tasks: 17 done, 1 failed (excluded from metrics), 0 pending",
		"best test_acc (mean): surrogate.shape=superspike, surrogate.scale=100: 0.72",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	// A set with a comma survives the flag's comma splitting; CSV parses.
	out, errOut, err := runCLI(t, "results", "--data-dir", dir, "--group-by", "surrogate.shape",
		"--where", "surrogate.scale in {1,100}", "--format", "csv", "fig")
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(recs) != 3 || recs[1][0] != "superspike" || recs[1][1] != "6" {
		t.Errorf("CSV output %q (%v), want 2 shapes with 6 expected tasks each", out, err)
	}
	if !strings.Contains(errOut, "note: 12 of 18 tasks match --where surrogate.scale in {1,100}") {
		t.Errorf("notes on stderr: %q", errOut)
	}

	// A descending sort key that starts with "-" is a flag value; flags
	// may follow the sweep name.
	out, _, err = runCLI(t, "results", "--data-dir", dir, "fig", "--sort", "-test_acc", "--top", "2", "--group-by", "surrogate.scale")
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(out, "\n"); !strings.HasPrefix(lines[1], "            100") || !strings.HasPrefix(lines[2], "             10") {
		t.Errorf("sorted output:\n%s", out)
	}

	// JSON, sorted, top 1, from environment variables.
	t.Setenv("SGSWEEP_RESULTS_FORMAT", "json")
	t.Setenv("SGSWEEP_RESULTS_SORT", "-test_acc")
	t.Setenv("SGSWEEP_RESULTS_TOP", "1")
	out, _, err = runCLI(t, "results", "--data-dir", dir, "fig")
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]any
	if err := json.Unmarshal([]byte(out), &rows); err != nil || len(rows) != 1 || rows[0]["surrogate.scale"] != 100.0 {
		t.Errorf("JSON output %s (%v), want the one best row at β = 100", out, err)
	}
}

func TestResultsCommandErrors(t *testing.T) {
	dir := analysisStore(t)
	tests := []struct {
		args []string
		want string
		code int
	}{
		{[]string{"results", "--data-dir", dir}, "takes one sweep name", 2},
		{[]string{"results", "--data-dir", dir, "--metric", "acc", "fig"}, `unknown metric "acc"`, 2},
		{[]string{"results", "--data-dir", dir, "--group-by", "surrogate.scal", "fig"}, "did you mean surrogate.scale?", 2},
		{[]string{"results", "--data-dir", dir, "--format", "xml", "fig"}, "--format", 2},
		{[]string{"results", "--data-dir", dir, "nope"}, "not found", 1},
		{[]string{"results", "--data-dir", t.TempDir(), "fig"}, "no results store at", 1},
		{[]string{"export", "--data-dir", dir, "--format", "parquet", "fig"}, "--format", 2},
		{[]string{"plot", "--data-dir", dir, "-o", "x.pdf", "fig"}, ".png or .svg", 2},
		{[]string{"plot", "--data-dir", dir, "-o", "x.png", "--kind", "line", "fig"}, "x: a line plot needs it", 2},
		{[]string{"results", "--data-dir", dir, "--include", "failed", "fig"}, `include: unknown outcome "failed"`, 2},
		{[]string{"plot", "--data-dir", dir, "-o", "x.png", "--kind", "bars", "--conditions", "surrogate.shape",
			"--include", "diverged", "fig"}, `include: unknown outcome "diverged"`, 2},
		{[]string{"results", "--data-dir", dir, "--where", "state=stoped", "fig"}, "pending, done, stopped, failed", 2},
	}
	for _, tt := range tests {
		_, _, err := runCLI(t, tt.args...)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("sgsweep %s: %v, want an error containing %q", strings.Join(tt.args, " "), err, tt.want)
			continue
		}
		code := 1
		var ec exitCoder
		if errors.As(err, &ec) {
			code = ec.ExitCode()
		}
		if code != tt.code {
			t.Errorf("sgsweep %s: exit status %d, want %d", strings.Join(tt.args, " "), code, tt.code)
		}
	}
}

func TestAnalysisCommandsOnALockedStore(t *testing.T) {
	dir := analysisStore(t)
	// A coordinator holds the store read-write.
	s, err := store.Open(filepath.Join(dir, "state.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, cmd := range []string{"results", "export"} {
		start := time.Now()
		_, _, err := runCLI(t, cmd, "--data-dir", dir, "fig")
		if err == nil || !errors.Is(err, store.ErrLocked) || !strings.Contains(err.Error(), "coordinator") {
			t.Errorf("%s on a held store: %v, want ErrLocked naming the coordinator", cmd, err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("%s took %v to give up on a held store", cmd, d)
		}
	}
}

func TestExportCommand(t *testing.T) {
	dir := analysisStore(t)
	path := filepath.Join(t.TempDir(), "fig.csv")
	_, errOut, err := runCLI(t, "export", "--data-dir", dir, "-o", path, "fig")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errOut, "wrote 18 rows (18 tasks) to "+path) {
		t.Errorf("stderr %q", errOut)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil || len(recs) != 19 {
		t.Fatalf("%d CSV records (%v), want header + 18", len(recs), err)
	}

	out, _, err := runCLI(t, "export", "--data-dir", dir, "--format", "jsonl", "--curves", "--where", "status=ok", "fig")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 34 { // 17 ok tasks × 2 epochs
		t.Errorf("%d JSON lines, want 34", len(lines))
	}
	var row map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &row); err != nil || row["epoch"] != 1.0 {
		t.Errorf("first line %s (%v)", lines[0], err)
	}
}

func TestPlotCommand(t *testing.T) {
	dir := analysisStore(t)
	for _, args := range [][]string{
		{"--kind", "line", "--x", "surrogate.scale", "--series", "surrogate.shape"},
		{"--kind", "heatmap", "--x", "surrogate.scale", "--y", "surrogate.shape"},
		{"--kind", "curves", "--series", "surrogate.shape"},
		{"--kind", "bars", "--conditions", "surrogate.shape", "--label", "superspike=SuperSpike"},
	} {
		path := filepath.Join(t.TempDir(), "fig.png")
		_, errOut, err := runCLI(t, append(append([]string{"plot", "--data-dir", dir, "-o", path, "--width", "12cm", "--height", "8cm", "--dpi", "100"}, args...), "fig")...)
		if err != nil {
			t.Fatalf("plot %v: %v", args, err)
		}
		if !strings.Contains(errOut, "wrote "+path) {
			t.Errorf("plot %v: stderr %q", args, errOut)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatalf("plot %v: %v", args, err)
		}
		// 12 cm × 8 cm at 100 dpi.
		if b := img.Bounds(); b.Dx() != 472 || b.Dy() != 315 {
			t.Errorf("plot %v: %d×%d px, want 472×315", args, b.Dx(), b.Dy())
		}
	}
}

func TestRejoinClauses(t *testing.T) {
	for _, tt := range []struct{ in, want []string }{
		{[]string{"a in {x", "y}", "b=1"}, []string{"a in {x,y}", "b=1"}},
		{[]string{"network.hidden=[100", "100]"}, []string{"network.hidden=[100,100]"}},
		{[]string{"a='x", "y'"}, []string{"a='x,y'"}},
		{[]string{"a=1", "b=2"}, []string{"a=1", "b=2"}},
		{[]string{"a in {x"}, []string{"a in {x"}},
	} {
		if got := rejoinClauses(tt.in); strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("rejoinClauses(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// While a coordinator holds the store, results and plot go through its
// results endpoint and give what the store gives, plan asks it for a
// preview, and export reads a snapshot the coordinator writes (and removes
// it after).
func TestAnalysisThroughTheCoordinator(t *testing.T) {
	dir := analysisStore(t)
	args := []string{"results", "--data-dir", dir, "--agg", "all", "--compare", "best", "fig"}
	want, _, err := runCLI(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	wantExport, _, err := runCLI(t, "export", "--data-dir", dir, "fig")
	if err != nil {
		t.Fatal(err)
	}
	coord := startSgsweep(t, nil, append([]string{"coordinator", "--data-dir", dir}, fastFlags...)...)
	coord.waitLine(20*time.Second, "coordinator ready", func(l string) bool { return strings.Contains(l, "coordinator ready") })

	got, _, err := runCLI(t, args...)
	if err != nil {
		t.Fatalf("results through the coordinator: %v", err)
	}
	if got != want {
		t.Errorf("through the coordinator:\n%s\nfrom the store:\n%s", got, want)
	}
	path := filepath.Join(t.TempDir(), "fig.svg")
	if _, _, err := runCLI(t, "plot", "--data-dir", dir, "-o", path, "--x", "surrogate.scale", "--series", "surrogate.shape", "fig"); err != nil {
		t.Errorf("plot through the coordinator: %v", err)
	} else if svg, _ := os.ReadFile(path); !bytes.Contains(svg, []byte("<svg")) {
		t.Errorf("plot through the coordinator wrote no SVG")
	}
	if _, _, err := runCLI(t, "results", "--data-dir", dir, "nope"); !errors.Is(err, results.ErrNotFound) {
		t.Errorf("unknown sweep through the coordinator: %v, want ErrNotFound", err)
	}
	// plan asks the coordinator what the store holds of a spec's tasks: a
	// spec under another name with the same cells finds all of fig's.
	spec := writeFile(t, "fig2.yaml", "name: fig2\nbase: {train: {epochs: 2}}\n"+
		"grid:\n  surrogate.shape: [superspike, sigmoid]\n  surrogate.scale: [1, 10, 100]\nreplicates: {seed: 3}\n")
	if out, _, err := runCLI(t, "plan", "--data-dir", dir, spec); err != nil ||
		!strings.Contains(out, "sweep fig2 is new") || !strings.Contains(out, "17 with a result, 1 failed, 0 to run") {
		t.Errorf("plan through the coordinator: %v\n%s", err, out)
	}
	// export reads a snapshot the coordinator writes, and removes it.
	gotExport, _, err := runCLI(t, "export", "--data-dir", dir, "fig")
	if err != nil || gotExport != wantExport {
		t.Errorf("export while the coordinator runs: %v\n%s\nwithout a coordinator:\n%s", err, gotExport, wantExport)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "snapshots", "*")); len(left) != 0 {
		t.Errorf("export left snapshots behind: %v", left)
	}
}
