package results

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"testing"
)

// TestQueryAndExportFromBboltStore writes a sweep into a real bbolt file
// through the store's API, reopens it read-only (as the CLI does when no
// coordinator runs) and checks that queries and exports read exactly what
// the in-memory records give.
func TestQueryAndExportFromBboltStore(t *testing.T) {
	mem := shapeScaleSweep(t)
	path := filepath.Join(t.TempDir(), "state.db")
	writeSynthStore(t, path, mem)
	store, err := Open(path, &Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()

	var fromStore RecordSlice
	if err := store.Records(ctx, "fig", func(r *Record) error {
		fromStore = append(fromStore, *r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(fromStore) != len(mem) {
		t.Fatalf("store has %d records, want %d", len(fromStore), len(mem))
	}

	for _, req := range []QueryRequest{
		{Sweep: "fig", Aggs: []string{"all", "values"}},
		{Sweep: "fig", GroupBy: []string{"surrogate.shape"}, Compare: CompareBest},
		{Sweep: "fig", Metrics: []string{"val_acc@*"}, GroupBy: []string{"status"}},
		{Sweep: "fig", Where: []string{"test_acc>0.8", "state=done"}, Sort: "-test_acc.mean", Top: 2},
	} {
		want := runQuery(t, mem, req)
		got := runQuery(t, store, req)
		if !reflect.DeepEqual(got, want) {
			var g, w bytes.Buffer
			got.WriteText(&g)
			want.WriteText(&w)
			t.Errorf("query %+v from bbolt:\n%s\nfrom memory:\n%s", req, g.String(), w.String())
		}
	}

	for _, opts := range []ExportOptions{{}, {Format: ExportJSONL, Curves: true}} {
		var got, want bytes.Buffer
		if _, err := Export(ctx, store, "fig", &got, opts); err != nil {
			t.Fatal(err)
		}
		if _, err := Export(ctx, mem, "fig", &want, opts); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Errorf("export %+v from bbolt differs from memory:\n%s\nwant\n%s", opts, got.String(), want.String())
		}
	}

	_, err = RunQuery(ctx, store, QueryRequest{Sweep: "nope"})
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("query of an unknown sweep: %v, want ErrNotFound", err)
	}
}
