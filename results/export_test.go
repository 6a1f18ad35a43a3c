package results_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/sgsweep/sgsweep/internal/golden"
	"github.com/sgsweep/sgsweep/results"
	"github.com/sgsweep/sgsweep/results/resultstest"
)

// exportString runs results.Export into a string.
func exportString(t *testing.T, src results.RecordSource, opts results.ExportOptions) (string, *results.ExportStats) {
	t.Helper()
	var b bytes.Buffer
	stats, err := results.Export(context.Background(), src, "fig", &b, opts)
	if err != nil {
		t.Fatalf("results.Export(%+v): %v", opts, err)
	}
	return b.String(), stats
}

// readJSONL parses a JSON Lines export.
func readJSONL(t *testing.T, text string) []map[string]any {
	t.Helper()
	var rows []map[string]any
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		d := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		d.UseNumber()
		if err := d.Decode(&m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		rows = append(rows, m)
	}
	return rows
}

func TestExportCSVPerTask(t *testing.T) {
	src := resultstest.ShapeScale(t)
	text, stats := exportString(t, src, results.ExportOptions{})
	header, rows := resultstest.ReadCSV(t, text)
	if stats.Tasks != 18 || stats.Rows != 18 || len(rows) != 18 {
		t.Fatalf("stats %+v, %d rows; want 18 tasks and rows", stats, len(rows))
	}
	for _, col := range append(append([]string{"sweep", "ordinal", "task_id", "state", "status", "surrogate.shape",
		"surrogate.scale", "network.hidden", "network.depth", "seed"}, results.MetricNames()...), results.ProvenanceColumns...) {
		if !slices.Contains(header, col) {
			t.Errorf("header lacks %s", col)
		}
	}
	for i, row := range rows {
		rec := src[i]
		if row["task_id"] != rec.TaskID || row["ordinal"] != strconv.Itoa(i) || row["state"] != rec.State {
			t.Errorf("row %d: task_id %s ordinal %s state %s, want %s %d %s", i, row["task_id"], row["ordinal"],
				row["state"], rec.TaskID, i, rec.State)
		}
		if rec.State != results.StateDone {
			if row["test_acc"] != "" || row["host"] != "" && rec.State == results.StatePending {
				t.Errorf("row %d (%s): test_acc %q host %q, want empty", i, rec.State, row["test_acc"], row["host"])
			}
			continue
		}
		got, err := strconv.ParseFloat(row["test_acc"], 64)
		if err != nil || got != rec.Result.Result.TestAcc {
			t.Errorf("row %d: test_acc %q does not read back as %v", i, row["test_acc"], rec.Result.Result.TestAcc)
		}
		if row["host"] != rec.Result.Provenance.Host || row["started_at"] != "2026-01-02T03:04:05Z" {
			t.Errorf("row %d: host %q started_at %q", i, row["host"], row["started_at"])
		}
	}
	if rows[0]["network.hidden"] != "[100]" || rows[0]["network.depth"] != "1" || rows[0]["surrogate.shape"] != "superspike" {
		t.Errorf("row 0 params: hidden %q depth %q shape %q", rows[0]["network.hidden"], rows[0]["network.depth"], rows[0]["surrogate.shape"])
	}
	if r := rows[17]; r["state"] != results.StateFailed || r["status"] != "failed" || r["error"] != "synthetic failure" {
		t.Errorf("failed row: state %q status %q error %q", r["state"], r["status"], r["error"])
	}
}

func TestExportJSONLMatchesCSV(t *testing.T) {
	src := resultstest.ShapeScale(t)
	for _, curves := range []bool{false, true} {
		csvText, _ := exportString(t, src, results.ExportOptions{Curves: curves})
		jsonText, stats := exportString(t, src, results.ExportOptions{Format: results.ExportJSONL, Curves: curves})
		header, csvRows := resultstest.ReadCSV(t, csvText)
		jsonRows := readJSONL(t, jsonText)
		if len(jsonRows) != len(csvRows) || len(jsonRows) != stats.Rows {
			t.Fatalf("curves=%v: %d JSON rows, %d CSV rows, stats %d", curves, len(jsonRows), len(csvRows), stats.Rows)
		}
		for i := range jsonRows {
			if len(jsonRows[i]) != len(header) {
				t.Fatalf("JSON row %d has %d keys, CSV %d columns", i, len(jsonRows[i]), len(header))
			}
			for _, col := range header {
				var s string
				switch v := jsonRows[i][col].(type) {
				case nil:
				case json.Number:
					s = v.String()
				case string:
					s = v
				case bool:
					s = strconv.FormatBool(v)
				case []any:
					b, _ := json.Marshal(v)
					s = string(b)
				default:
					t.Fatalf("row %d %s: unexpected %T", i, col, v)
				}
				if s != csvRows[i][col] {
					t.Errorf("curves=%v row %d %s: JSON %q, CSV %q", curves, i, col, s, csvRows[i][col])
				}
			}
		}
	}
}

func TestExportCurves(t *testing.T) {
	src := resultstest.ShapeScale(t)
	text, stats := exportString(t, src, results.ExportOptions{Curves: true})
	_, rows := resultstest.ReadCSV(t, text)
	// 15 ok tasks × 3 epochs + the diverged one's single epoch; failed and
	// pending tasks have no curve.
	if stats.Rows != 46 || stats.Tasks != 16 || len(rows) != 46 {
		t.Fatalf("stats %+v, %d rows; want 46 rows of 16 tasks", stats, len(rows))
	}
	first := rows[0]
	if first["epoch"] != "1" || first["val_acc"] != strconv.FormatFloat(resultstest.Curve("superspike", 1, 1)[0], 'g', -1, 64) ||
		first["spikes_by_layer"] != "[1.61]" {
		t.Errorf("first curve row: epoch %q val_acc %q spikes_by_layer %q", first["epoch"], first["val_acc"], first["spikes_by_layer"])
	}
	if _, ok := first["test_acc"]; ok {
		t.Error("curve rows carry final metrics")
	}
}

func TestExportWhere(t *testing.T) {
	src := resultstest.ShapeScale(t)
	_, stats := exportString(t, src, results.ExportOptions{Where: []string{"surrogate.shape=sigmoid", "test_acc>=0.8"}})
	// sigmoid: β=1 seeds → 0.77,0.78,0.79; β=10 → 0.87,0.88,0.89; β=100 → 0.57.
	if stats.Rows != 3 {
		t.Errorf("rows = %d, want 3", stats.Rows)
	}
	if _, err := results.Export(context.Background(), src, "fig", &bytes.Buffer{}, results.ExportOptions{Format: "parquet"}); err == nil {
		t.Error("results.Export with format parquet succeeded")
	}
	if _, err := results.Export(context.Background(), src, "fig", &bytes.Buffer{}, results.ExportOptions{Where: []string{"x=1"}}); err == nil {
		t.Error("results.Export with an unknown where path succeeded")
	}
}

func TestExportGolden(t *testing.T) {
	src := resultstest.ShapeScale(t)[:2]
	src = append(src, resultstest.ShapeScale(t)[17]) // a failed task
	for _, tt := range []struct {
		name string
		opts results.ExportOptions
	}{
		{"export_tasks.csv", results.ExportOptions{}},
		{"export_tasks.jsonl", results.ExportOptions{Format: results.ExportJSONL}},
		{"export_curves.csv", results.ExportOptions{Curves: true}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			text, _ := exportString(t, src, tt.opts)
			golden.Check(t, filepath.Join("testdata", tt.name), []byte(text))
		})
	}
}

func TestAppendCSVField(t *testing.T) {
	for in, want := range map[string]string{
		"plain": "plain", "a,b": `"a,b"`, `say "hi"`: `"say ""hi"""`, "two\nlines": "\"two\nlines\"", " pad": `" pad"`, "": "",
	} {
		if got := string(results.AppendCSVField(nil, in)); got != want {
			t.Errorf("results.AppendCSVField(%q) = %s, want %s", in, got, want)
		}
	}
}
