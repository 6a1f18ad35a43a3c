package store_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/sgsweep/sgsweep/results"
	"github.com/sgsweep/sgsweep/results/resultstest"
	"github.com/sgsweep/sgsweep/results/store"
)

// TestQueryAndExportFromBboltStore writes a sweep into a real bbolt file
// through the store's API, reopens it read-only (as the CLI does when no
// coordinator runs) and checks that queries and exports read exactly what
// the in-memory records give.
func TestQueryAndExportFromBboltStore(t *testing.T) {
	mem := resultstest.ShapeScale(t)
	path := filepath.Join(t.TempDir(), "state.db")
	resultstest.WriteStore(t, path, mem)
	st := resultstest.OpenStore(t, path, &store.Options{ReadOnly: true})
	ctx := context.Background()

	var fromStore results.RecordSlice
	if err := st.Records(ctx, "fig", func(r *results.Record) error {
		fromStore = append(fromStore, *r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(fromStore) != len(mem) {
		t.Fatalf("store has %d records, want %d", len(fromStore), len(mem))
	}

	for _, req := range []results.QueryRequest{
		{Sweep: "fig", Aggs: []string{"all", "values"}},
		{Sweep: "fig", GroupBy: []string{"surrogate.shape"}, Compare: results.CompareBest},
		{Sweep: "fig", Metrics: []string{"val_acc@*"}, GroupBy: []string{"status"}},
		{Sweep: "fig", Where: []string{"test_acc>0.8", "state=done"}, Sort: "-test_acc.mean", Top: 2},
	} {
		want, err := results.RunQuery(ctx, mem, req)
		if err != nil {
			t.Fatalf("RunQuery(memory, %+v): %v", req, err)
		}
		got, err := results.RunQuery(ctx, st, req)
		if err != nil {
			t.Fatalf("RunQuery(bbolt, %+v): %v", req, err)
		}
		if !reflect.DeepEqual(got, want) {
			var g, w bytes.Buffer
			got.WriteText(&g)
			want.WriteText(&w)
			t.Errorf("query %+v from bbolt:\n%s\nfrom memory:\n%s", req, g.String(), w.String())
		}
	}

	for _, opts := range []results.ExportOptions{{}, {Format: results.ExportJSONL, Curves: true}} {
		var got, want bytes.Buffer
		if _, err := results.Export(ctx, st, "fig", &got, opts); err != nil {
			t.Fatal(err)
		}
		if _, err := results.Export(ctx, mem, "fig", &want, opts); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Errorf("export %+v from bbolt differs from memory:\n%s\nwant\n%s", opts, got.String(), want.String())
		}
	}

	_, err := results.RunQuery(ctx, st, results.QueryRequest{Sweep: "nope"})
	if !errors.Is(err, results.ErrNotFound) {
		t.Errorf("query of an unknown sweep: %v, want results.ErrNotFound", err)
	}
}
