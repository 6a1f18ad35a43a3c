package store_test

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/sgsweep/sgsweep/results"
	"github.com/sgsweep/sgsweep/results/resultstest"
	"github.com/sgsweep/sgsweep/results/store"
)

// TestRecordByID reads every task of a sweep by ID and finds the record
// Records gives, stop decisions included; a task or sweep that is not there
// is ErrNotFound.
func TestRecordByID(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	resultstest.WriteStore(t, path, resultstest.ShapeScaleStopped(t))
	st := resultstest.OpenStore(t, path, &store.Options{ReadOnly: true})
	ctx := context.Background()
	n, stopped := 0, 0
	err := st.Records(ctx, "fig", func(want *results.Record) error {
		n++
		if want.State == results.StateStopped && want.Stop != nil {
			stopped++
		}
		got, err := st.Record(ctx, "fig", want.TaskID)
		if err != nil {
			return err
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Record(%s) = %+v, want %+v", want.TaskID, got, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 || stopped != 2 {
		t.Fatalf("%d records, %d of them stopped with their decision; want some, 2", n, stopped)
	}
	for _, c := range []struct{ sweep, id string }{{"fig", "0123456789abcdef0123456789abcdef"}, {"nope", "x"}} {
		if _, err := st.Record(ctx, c.sweep, c.id); !errors.Is(err, results.ErrNotFound) {
			t.Errorf("Record(%s, %s): %v, want ErrNotFound", c.sweep, c.id, err)
		}
	}
}
