package dashboard_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"net/url"
	"strings"
	"testing"

	"github.com/sgsweep/sgsweep/results"
)

func TestSweepsPage(t *testing.T) {
	ts, _ := storeServer(t, "")
	page := mustGet(t, ts, "/")
	// fig: 18 tasks, 16 done (one diverged), 1 failed, 1 pending.
	for _, want := range []string{`<a href="/sweeps/fig">fig</a>`, `data-f="expected">18<`, `data-f="done">16<`,
		`data-f="failed">1<`, `data-f="pending">1<`, `data-f="diverged">1<`, `data-f="percent">94.4<`, "read-only store"} {
		if !strings.Contains(page, want) {
			t.Errorf("sweeps page lacks %q", want)
		}
	}
	if code, _ := get(t, ts, "/sweeps/nope"); code != 404 {
		t.Errorf("unknown sweep: %d, want 404", code)
	}
}

// TestResultsTableIsRunQuery: the sweep page's table is results.RunQuery's
// for the same query, cell for cell at full precision, and its CSV and
// JSON downloads are Table.Write's bytes.
func TestResultsTableIsRunQuery(t *testing.T) {
	ts, st := storeServer(t, "")
	for _, tc := range []struct {
		form url.Values
		req  results.QueryRequest
	}{
		{url.Values{}, results.QueryRequest{}},
		{url.Values{"group-by": {"surrogate.shape"}, "agg": {"all"}, "metric": {"test_acc,best_val_acc"}},
			results.QueryRequest{GroupBy: []string{"surrogate.shape"}, Aggs: []string{"all"}, Metrics: []string{"test_acc", "best_val_acc"}}},
		{url.Values{"where": {"surrogate.scale>=10\nsurrogate.shape=sigmoid"}, "sort": {"-test_acc"}, "top": {"2"}, "agg": {"n,mean,values"}},
			results.QueryRequest{Where: []string{"surrogate.scale>=10", "surrogate.shape=sigmoid"}, Sort: "-test_acc", Top: 2,
				Aggs: []string{"n", "mean", "values"}}},
		{url.Values{"metric": {"val_acc@*,test_acc"}, "group-by": {"surrogate.scale"}, "compare": {"best"}},
			results.QueryRequest{Metrics: []string{"val_acc@*", "test_acc"}, GroupBy: []string{"surrogate.scale"}, Compare: "best"}},
	} {
		tc.req.Sweep = "fig"
		want, err := results.RunQuery(context.Background(), st, tc.req)
		if err != nil {
			t.Fatal(err)
		}
		page := mustGet(t, ts, "/sweeps/fig?"+tc.form.Encode())
		if !strings.Contains(page, `data-src="/sweeps/fig/table.html`) {
			t.Errorf("%v: the sweep page does not load its table", tc.form)
		}
		cols, rows := htmlTable(t, mustGet(t, ts, "/sweeps/fig/table.html?"+tc.form.Encode()))
		if len(cols) != len(want.Columns) || len(rows) != len(want.Rows) {
			t.Fatalf("%v: page table %d×%d, RunQuery %d×%d", tc.form, len(rows), len(cols), len(want.Rows), len(want.Columns))
		}
		for j, c := range want.Columns {
			if cols[j] != c.Name {
				t.Errorf("%v: column %d = %q, want %q", tc.form, j, cols[j], c.Name)
			}
		}
		for i, row := range want.Rows {
			for j, v := range row {
				if rows[i][j] != v.String() {
					t.Errorf("%v: cell %d,%d = %q, RunQuery %q", tc.form, i, j, rows[i][j], v.String())
				}
			}
		}
		for _, format := range []string{results.FormatCSV, results.FormatJSON} {
			var buf bytes.Buffer
			if err := want.Write(&buf, format); err != nil {
				t.Fatal(err)
			}
			if got := mustGet(t, ts, "/sweeps/fig/table."+format+"?"+tc.form.Encode()); got != buf.String() {
				t.Errorf("%v: table.%s =\n%s\nwant\n%s", tc.form, format, got, buf.String())
			}
		}
	}
	// A bad query is shown on the page, not a failure.
	page := mustGet(t, ts, "/sweeps/fig?metric=nope")
	if !strings.Contains(page, `class="error"`) || !strings.Contains(page, "nope") {
		t.Error("an unknown metric is not reported on the page")
	}
	if code, frag := get(t, ts, "/sweeps/fig/table.html?sort=nope"); code != 400 || !strings.Contains(frag, `class="error"`) {
		t.Errorf("table.html of a bad sort: %d %s", code, frag)
	}
}

// TestFigures: each kind is a well-formed SVG document, and the sweep page
// links a default figure.
func TestFigures(t *testing.T) {
	ts, _ := storeServer(t, "")
	page := mustGet(t, ts, "/sweeps/fig")
	if !strings.Contains(page, `src="/sweeps/fig/figure.svg"`) {
		t.Errorf("the sweep page does not link the default figure")
	}
	// The default figure: a line over the first numeric varying
	// parameter, a series per value of another.
	want := mustGet(t, ts, "/sweeps/fig/figure.svg?kind=line&x=surrogate.scale&series=surrogate.shape")
	if got := mustGet(t, ts, "/sweeps/fig/figure.svg"); got != want {
		t.Error("the default figure is not the line over the varying parameters")
	}
	wantSVG(t, "default", want)
	for _, q := range []string{
		"kind=line&x=surrogate.scale&series=surrogate.shape",
		"kind=heatmap&x=surrogate.scale&y=surrogate.shape",
		"kind=curves&series=surrogate.shape",
		"kind=bars&conditions=surrogate.shape",
	} {
		svg := mustGet(t, ts, "/sweeps/fig/figure.svg?"+q)
		wantSVG(t, q, svg)
	}
	if code, body := get(t, ts, "/sweeps/fig/figure.svg?kind=line&x=nope"); code != 400 || !strings.Contains(body, "nope") {
		t.Errorf("figure of an unknown parameter: %d %s", code, body)
	}
}

// wantSVG checks that text is well-formed XML with an <svg> root.
func wantSVG(t *testing.T, what, text string) {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(text))
	root := ""
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: not well-formed XML: %v", what, err)
		}
		if se, ok := tok.(xml.StartElement); ok && root == "" {
			root = se.Name.Local
		}
	}
	if root != "svg" {
		t.Errorf("%s: root element %q, want svg", what, root)
	}
}

// TestExport: the downloads are results.Export's output.
func TestExport(t *testing.T) {
	ts, st := storeServer(t, "")
	for _, tc := range []struct {
		path string
		opts results.ExportOptions
	}{
		{"/sweeps/fig/export.csv", results.ExportOptions{Format: results.ExportCSV}},
		{"/sweeps/fig/export.jsonl?curves=1&where=surrogate.scale%3D10", results.ExportOptions{Format: results.ExportJSONL,
			Curves: true, Where: []string{"surrogate.scale=10"}}},
	} {
		var want bytes.Buffer
		if _, err := results.Export(context.Background(), st, "fig", &want, tc.opts); err != nil {
			t.Fatal(err)
		}
		if got := mustGet(t, ts, tc.path); got != want.String() {
			t.Errorf("%s differs from results.Export", tc.path)
		}
	}
	if code, _ := get(t, ts, "/sweeps/fig/export.xml"); code != 404 {
		t.Errorf("export.xml: %d, want 404", code)
	}
}

func TestTaskPage(t *testing.T) {
	ts, st := storeServer(t, "")
	var done, failed *results.Record
	st.Records(context.Background(), "fig", func(r *results.Record) error {
		c := *r
		switch {
		case r.State == results.StateDone && done == nil:
			done = &c
		case r.State == results.StateFailed:
			failed = &c
		}
		return nil
	})
	page := mustGet(t, ts, "/sweeps/fig/tasks/"+done.TaskID)
	for _, want := range []string{done.TaskID, "surrogate", "superspike", "<polyline", "hosta/1", "model version",
		results.FormatStat(done.Result.Result.TestAcc)} {
		if !strings.Contains(page, want) {
			t.Errorf("task page lacks %q", want)
		}
	}
	if page := mustGet(t, ts, "/sweeps/fig/tasks/"+failed.TaskID); !strings.Contains(page, "synthetic failure") {
		t.Error("failed task page lacks its error")
	}
	if code, _ := get(t, ts, "/sweeps/fig/tasks/0000"); code != 404 {
		t.Errorf("unknown task: %d, want 404", code)
	}
}

func TestMetricsOfStore(t *testing.T) {
	ts, _ := storeServer(t, "")
	body := mustGet(t, ts, "/metrics")
	for _, want := range []string{`sgsweep_tasks{state="done",sweep="fig"} 16`, `sgsweep_tasks{state="pending",sweep="fig"} 1`,
		`sgsweep_status_up 1`, `sgsweep_build_info{`, `go_build_info`} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
