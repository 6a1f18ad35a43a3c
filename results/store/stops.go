package store

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"time"

	"github.com/sgsweep/sgsweep/protocol"
	"github.com/sgsweep/sgsweep/results"
	bolt "go.etcd.io/bbolt"
)

// Stop decisions (early stopping, docs/stopping.md) are kept in stops/,
// one nested bucket per sweep, keyed by task ID. A decision is committed
// (and synced to disk) before any worker hears of it, and never changes
// afterwards: CommitStop returns the decision already there. A stopped
// result counts only if it carries its task's committed decision. `retry
// --stopped` overrides decisions: the entry stays (for audit), marked
// overridden, and holds the stopped result it took out of results/.

// bucketStops holds the decisions. Stores written before it existed lack
// it: a read-write open creates it (init), and readers treat a missing one
// as empty.
var bucketStops = []byte("stops")

// stopEntry is the value of stops/<sweep>/<task ID>.
type stopEntry struct {
	Decision    protocol.StopDecision `json:"decision"`
	CommittedAt time.Time             `json:"committed_at"`
	// Overridden is when `retry --stopped` overrode the decision (zero
	// while it holds); SetAside is the stopped result message it took out
	// of results/, as received.
	Overridden time.Time       `json:"overridden,omitzero"`
	SetAside   json.RawMessage `json:"set_aside,omitempty"`
}

// StopRecord is one committed stop decision of a sweep.
type StopRecord struct {
	TaskID      string                `json:"task_id"`
	Decision    protocol.StopDecision `json:"decision"`
	CommittedAt time.Time             `json:"committed_at"`
	// Overridden is when `retry --stopped` overrode the decision: the task
	// is trained to the end. Zero while the decision holds.
	Overridden time.Time `json:"overridden,omitzero"`
}

// CommitStop commits the decision to stop a task of a sweep and returns the
// binding decision: d when the task had none, else the decision committed
// before, unchanged (also when it was overridden). The decision is synced
// to disk before CommitStop returns (unless the store was opened with
// NoSync). An unknown sweep, or a task the sweep does not plan, is an error
// wrapping results.ErrNotFound.
func (s *Store) CommitStop(ctx context.Context, sweepName, taskID string, d *protocol.StopDecision) (*protocol.StopDecision, error) {
	if d == nil {
		return nil, fmt.Errorf("commit stop of task %s: no decision", taskID)
	}
	var binding protocol.StopDecision
	err := s.update(ctx, func(tx *bolt.Tx) error {
		var e sweepEntry
		if err := getSweep(tx, sweepName, &e); err != nil {
			return err
		}
		var t taskEntry
		found, err := getJSON(tx.Bucket(bucketTasks), []byte(taskID), &t)
		if err != nil {
			return err
		}
		if !found || !slices.Contains(t.Sweeps, sweepName) {
			return fmt.Errorf("task %s is not planned in sweep %q: %w", taskID, sweepName, results.ErrNotFound)
		}
		b, err := tx.Bucket(bucketStops).CreateBucketIfNotExists([]byte(sweepName))
		if err != nil {
			return err
		}
		var old stopEntry
		if found, err := getJSON(b, []byte(taskID), &old); err != nil || found {
			binding = old.Decision
			return err
		}
		binding = *d
		return putJSON(b, []byte(taskID), stopEntry{Decision: *d, CommittedAt: now()})
	})
	if err != nil {
		return nil, fmt.Errorf("commit stop of task %s: %w", taskID, err)
	}
	return &binding, nil
}

// StopDecisions calls fn with every decision committed for the sweep
// (overridden ones included), in task ID order. A sweep without decisions
// has none; an unknown sweep is an error wrapping results.ErrNotFound.
func (s *Store) StopDecisions(ctx context.Context, sweepName string, fn func(StopRecord) error) error {
	err := s.view(ctx, func(tx *bolt.Tx) error {
		if tx.Bucket(bucketSweeps).Get([]byte(sweepName)) == nil {
			return fmt.Errorf("sweep %q: %w", sweepName, results.ErrNotFound)
		}
		b := stopsOf(tx, sweepName)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var e stopEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("decode stop %s: %w", k, err)
			}
			return fn(StopRecord{TaskID: string(k), Decision: e.Decision, CommittedAt: e.CommittedAt,
				Overridden: e.Overridden})
		})
	})
	if err != nil {
		return fmt.Errorf("stop decisions of %q: %w", sweepName, err)
	}
	return nil
}

// RetryStopped makes the sweep's stopped tasks pending again, to be trained
// to the end: each stopped result is moved from results/ into its
// decision's entry in stops/ (kept, not deleted), the decision is marked
// overridden (kept for audit; StopDecisions reports it, and the
// coordinator publishes the task without stopping), and the task gets a
// new generation (a fresh message ID). A cancelled sweep runs again. It
// returns how many tasks it reset.
func (s *Store) RetryStopped(ctx context.Context, name string) (int, error) {
	return s.resetTasks(ctx, "retry stopped tasks of", name, results.StateStopped, func(tx *bolt.Tx, id, raw []byte, at time.Time) error {
		return overrideStop(tx, name, id, raw, at)
	})
}

// overrideStop marks the decision that stopped a task overridden and sets
// its stopped result (raw) aside in the decision's entry. The decision is
// the one of the sweep the result names (a task planned by several sweeps
// was stopped under one of them), else of the sweep retried.
func overrideStop(tx *bolt.Tx, retried string, id, raw []byte, at time.Time) error {
	owner := retried
	var r struct {
		Sweep string `json:"sweep"`
	}
	if json.Unmarshal(raw, &r) == nil && r.Sweep != "" && stopsOf(tx, r.Sweep) != nil {
		owner = r.Sweep
	}
	b, err := tx.Bucket(bucketStops).CreateBucketIfNotExists([]byte(owner))
	if err != nil {
		return err
	}
	var e stopEntry
	if _, err := getJSON(b, id, &e); err != nil {
		return err
	}
	e.Overridden, e.SetAside = at, raw
	return putJSON(b, id, &e)
}

// stopsOf is the sweep's bucket of decisions, nil when it has none.
func stopsOf(tx *bolt.Tx, sweepName string) *bolt.Bucket {
	b := tx.Bucket(bucketStops)
	if b == nil {
		return nil
	}
	return b.Bucket([]byte(sweepName))
}

// holdingStop decodes a task's stop entry (data, from the sweep's bucket
// of decisions; nil when there is none) and returns its decision while it
// holds: nil when there is none or it was overridden.
func holdingStop(data, id []byte) (*protocol.StopDecision, error) {
	if data == nil {
		return nil, nil
	}
	var e stopEntry
	if err := json.Unmarshal(data, &e); err != nil {
		return nil, fmt.Errorf("decode %s: %w", id, err)
	}
	if !e.Overridden.IsZero() {
		return nil, nil
	}
	return &e.Decision, nil
}

// stopRefusal is why a stopped result cannot settle its task, "" when it
// can: it must carry the decision committed for the task under its sweep,
// unchanged, and that decision must hold.
func stopRefusal(tx *bolt.Tx, r *protocol.ResultMsg) (string, error) {
	b := stopsOf(tx, r.Sweep)
	var e stopEntry
	found := false
	if b != nil {
		var err error
		if found, err = getJSON(b, []byte(r.TaskID), &e); err != nil {
			return "", err
		}
	}
	switch {
	case !found:
		return fmt.Sprintf("stopped result of task %s: sweep %s committed no stop decision for it", r.TaskID, r.Sweep), nil
	case !e.Overridden.IsZero():
		return fmt.Sprintf("stopped result of task %s: its stop decision was overridden (retry --stopped) at %s",
			r.TaskID, e.Overridden.Format(time.RFC3339)), nil
	case r.Stop == nil || !sameDecision(r.Stop, &e.Decision):
		return fmt.Sprintf("stopped result of task %s: its stop decision %s differs from the committed one %s",
			r.TaskID, decisionText(r.Stop), decisionText(&e.Decision)), nil
	}
	return "", nil
}

// sameDecision compares two decisions field by field (DecidedAt as an
// instant: its JSON round trip may change the location).
func sameDecision(a, b *protocol.StopDecision) bool {
	x, y := *a, *b
	if !x.DecidedAt.Equal(y.DecidedAt) {
		return false
	}
	x.DecidedAt, y.DecidedAt = time.Time{}, time.Time{}
	if len(x.Against) == 0 && len(y.Against) == 0 {
		x.Against, y.Against = nil, nil
	}
	return reflect.DeepEqual(x, y)
}

// decisionText is a short description of a decision for reasons.
func decisionText(d *protocol.StopDecision) string {
	if d == nil {
		return "(none)"
	}
	return fmt.Sprintf("(%s after epoch %d, %s %g vs %g, decided %s)", d.Rule, d.Epoch, d.Metric, d.Value,
		d.Threshold, d.DecidedAt.Format(time.RFC3339Nano))
}

// checkStops checks the stop decisions (part of the full check): each
// sweep's bucket names a sweep, each entry decodes and is of a known task
// (one an extended spec dropped keeps its decision), and an overridden one holds the stopped result it set aside.
func checkStops(tx *bolt.Tx, dmg *DamagedError) {
	root := tx.Bucket(bucketStops)
	if root == nil {
		return // a store written before early stopping
	}
	tasks := tx.Bucket(bucketTasks)
	err := root.ForEach(func(name, v []byte) error {
		b := root.Bucket(name)
		if v != nil || b == nil {
			dmg.add("stops/%s: not a bucket", name)
			return nil
		}
		if tx.Bucket(bucketSweeps).Get(name) == nil {
			dmg.add("stops/%s: no such sweep", name)
		}
		return b.ForEach(func(id, v []byte) error {
			var e stopEntry
			if err := json.Unmarshal(v, &e); err != nil {
				dmg.add("stops/%s/%s: %v", name, id, err)
				return nil
			}
			if tasks.Get(id) == nil {
				dmg.add("stops/%s/%s: a decision for an unknown task", name, id)
			}
			if !e.Overridden.IsZero() && len(e.SetAside) == 0 {
				dmg.add("stops/%s/%s: overridden without the stopped result it set aside", name, id)
			}
			return nil
		})
	})
	if err != nil {
		dmg.add("stops: %v", err)
	}
}

// TaskOf returns a task's parameters and state as the sweep plans it;
// planned is false when the sweep (or the task) is unknown or the sweep
// does not plan the task.
func (s *Store) TaskOf(ctx context.Context, sweepName, id string) (params json.RawMessage, state string, planned bool, err error) {
	err = s.view(ctx, func(tx *bolt.Tx) error {
		var t taskEntry
		found, err := getJSON(tx.Bucket(bucketTasks), []byte(id), &t)
		if err != nil || !found || !slices.Contains(t.Sweeps, sweepName) {
			return err
		}
		params, state, planned = getParams(tx, []byte(id)), t.State, true
		return nil
	})
	if err != nil {
		return nil, "", false, fmt.Errorf("task %s of sweep %q: %w", id, sweepName, err)
	}
	return params, state, planned, nil
}
