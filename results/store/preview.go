package store

import (
	"context"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// Preview outcomes: what PlanSweep would do with a plan.
const (
	PreviewNew     = "new"     // no sweep of that name: it would be created
	PreviewResume  = "resume"  // the same spec: it would resume
	PreviewChanged = "changed" // another spec under that name: refused unless extended
)

// Preview says what planning p would do, without writing anything; it works
// on a read-only store.
type Preview struct {
	Sweep string `json:"sweep"`
	// Outcome is new, resume or changed.
	Outcome string `json:"outcome"`
	// OldCanonical is the canonical spec the sweep was planned with, when
	// Outcome is changed (for sweep.Diff).
	OldCanonical []byte `json:"old_canonical,omitempty"`
	// Tasks is the number of tasks in p. Done and Failed count those with a
	// result or a failure anywhere in the store (they would not run);
	// Pending counts the rest.
	Tasks   int `json:"tasks"`
	Done    int `json:"done"`
	Failed  int `json:"failed"`
	Pending int `json:"pending"`
	// Added counts tasks the sweep does not plan yet (all of them for a new
	// sweep); Dropped counts tasks it plans that p does not.
	Added   int `json:"added"`
	Dropped int `json:"dropped"`
}

// PreviewPlan reports what PlanSweep(p) would do: whether the sweep is new,
// resumed or changed, and how many of its tasks already have results. It
// reads p's tasks once, holding one at a time, in one read transaction.
func (s *Store) PreviewPlan(ctx context.Context, p *Plan) (*Preview, error) {
	pv := &Preview{Sweep: p.Name, Outcome: PreviewNew}
	err := s.view(ctx, func(tx *bolt.Tx) error {
		old, err := newSweepCache(tx).get(p.Name)
		if err != nil {
			return err
		}
		// Count as planning would (sweepEntry.count), over p's tasks; a
		// task the sweep plans already carries its reference.
		var tally sweepEntry
		kept := 0
		digest := newPlanDigest()
		tasks := tx.Bucket(bucketTasks)
		for t, err := range p.tasks() {
			if err != nil {
				return err
			}
			digest.add(t.ID)
			var e taskEntry
			if _, err := getJSON(tasks, []byte(t.ID), &e); err != nil {
				return err
			}
			tally.count(&e)
			if slices.Contains(e.Sweeps, p.Name) {
				kept++
			} else {
				pv.Added++
			}
		}
		pv.Tasks = tally.Expected
		pv.Done, pv.Failed = tally.Done, tally.Failed
		pv.Pending = pv.Tasks - pv.Done - pv.Failed
		if old == nil {
			return nil
		}
		pv.Dropped = old.Expected - kept
		pv.Outcome = PreviewResume
		if !old.resumedBy(p, digest.sum()) {
			pv.Outcome = PreviewChanged
			var spec specEntry
			if _, err := getJSON(tx.Bucket(bucketSpecs), []byte(p.Name), &spec); err != nil {
				return err
			}
			pv.OldCanonical = spec.Canonical
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("preview plan %q: %w", p.Name, err)
	}
	return pv, nil
}
