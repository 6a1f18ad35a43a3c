package dashboard_test

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/sgsweep/sgsweep/dashboard"
	"github.com/sgsweep/sgsweep/results"
	"github.com/sgsweep/sgsweep/results/resultstest"
	"github.com/sgsweep/sgsweep/results/store"
)

// TestReport: one self-contained file (no external asset, no script)
// with the counts, the table of RunQuery, every figure as inline SVG and
// the provenance.
func TestReport(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	resultstest.WriteStore(t, path, resultstest.ShapeScale(t))
	st := resultstest.OpenStore(t, path, &store.Options{ReadOnly: true})
	req := results.QueryRequest{GroupBy: []string{"surrogate.shape"}, Aggs: []string{"n", "mean", "sd"}}
	var buf bytes.Buffer
	err := dashboard.WriteReport(context.Background(), dashboard.StoreSource(st), "fig", dashboard.ReportOptions{Query: req,
		Figures: []string{"kind=heatmap&x=surrogate.scale&y=surrogate.shape", "kind=curves&series=surrogate.shape", ""}}, &buf)
	if err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	if n := strings.Count(page, "<svg"); n != 3 {
		t.Errorf("report has %d inline SVGs, want 3", n)
	}
	if regexp.MustCompile(`(src|href)="(https?:)?//|<script|<link`).MatchString(page) {
		t.Error("the report refers to an external asset or has a script")
	}
	for _, want := range []string{"<style>", `data-f="done">16<`, "hosta", "hostb", "model versions"} {
		if !strings.Contains(page, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	req.Sweep = "fig"
	tab, err := results.RunQuery(context.Background(), st, req)
	if err != nil {
		t.Fatal(err)
	}
	_, rows := htmlTable(t, page)
	if len(rows) != len(tab.Rows) {
		t.Fatalf("report table %d rows, RunQuery %d", len(rows), len(tab.Rows))
	}
	for i, row := range tab.Rows {
		for j, v := range row {
			if rows[i][j] != v.String() {
				t.Errorf("cell %d,%d = %q, RunQuery %q", i, j, rows[i][j], v.String())
			}
		}
	}
	if err := dashboard.WriteReport(context.Background(), dashboard.StoreSource(st), "fig",
		dashboard.ReportOptions{Figures: []string{"kind=line&x=nope"}}, &buf); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("report with a bad figure: %v", err)
	}
}
