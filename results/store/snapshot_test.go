package store

import (
	"context"
	"encoding/json"
	"path/filepath"
	"reflect"
	"testing"
)

// A snapshot of a store held open read-write opens read-only in the same
// process (the store's own file would be locked) and holds what was
// committed before it, not what was committed after.
func TestSnapshot(t *testing.T) {
	s := openTestStore(t)
	mustPlan(t, s, testPlan("snap", 1, 2, 3))
	mustCommit(t, s, []Incoming{testResult("snap", 1, "ok", 0.5)}, nil, nil)
	want := records(t, s, "snap")

	path := filepath.Join(t.TempDir(), "snap.db")
	if err := s.Snapshot(context.Background(), path); err != nil {
		t.Fatal(err)
	}
	mustCommit(t, s, []Incoming{testResult("snap", 2, "ok", 0.7)}, nil, nil)

	snap := openChecked(t, path, &Options{ReadOnly: true, Timeout: DefaultTimeout})
	got := records(t, snap, "snap")
	if !reflect.DeepEqual(jsonOf(t, got), jsonOf(t, want)) {
		t.Errorf("snapshot records:\n%s\nwant\n%s", jsonOf(t, got), jsonOf(t, want))
	}
	if info := mustSweep(t, snap, "snap"); info.Done != 1 || info.Pending != 2 {
		t.Errorf("snapshot counts done %d pending %d, want 1 and 2", info.Done, info.Pending)
	}
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
