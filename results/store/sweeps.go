package store

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/sgsweep/sgsweep/results"
	bolt "go.etcd.io/bbolt"
)

// Sweep states.
const (
	SweepRunning   = "running"   // has pending tasks, which are (re)published
	SweepDone      = "done"      // every planned task is done or failed
	SweepCancelled = "cancelled" // pending tasks withdrawn; resubmitting resumes it
)

// SweepInfo summarises one sweep. Counts are of its planned tasks:
// Expected = Done + Failed + Pending.
type SweepInfo struct {
	Name string `json:"name"`
	// Fingerprint is the hex SHA-256 of the spec's canonical JSON.
	Fingerprint string `json:"fingerprint"`
	// State is running, done or cancelled.
	State    string    `json:"state"`
	Created  time.Time `json:"created"`
	Updated  time.Time `json:"updated"`
	Finished time.Time `json:"finished,omitzero"`

	Expected int `json:"expected"`
	// Done counts tasks with a stored result (status ok or diverged);
	// Diverged counts those of them whose loss diverged.
	Done     int `json:"done"`
	Diverged int `json:"diverged"`
	// Stopped counts tasks whose run a stop decision ended early and whose
	// stopped result is stored (not counted in Done).
	Stopped int `json:"stopped"`
	// Failed counts tasks that failed deterministically or exhausted their
	// deliveries.
	Failed  int `json:"failed"`
	Pending int `json:"pending"`
	// Duplicates counts identical results received again (stored once);
	// Conflicts counts differing results of one task (kept aside).
	Duplicates int `json:"duplicates"`
	Conflicts  int `json:"conflicts"`
	// Verified counts tasks whose recomputation by another worker gave
	// the stored result; Disputed those where it differed (both results
	// kept: the stored one and a conflict). See verify.go.
	Verified int `json:"verified,omitempty"`
	Disputed int `json:"disputed,omitempty"`
}

// Sweeps lists every sweep, by name.
func (s *Store) Sweeps(ctx context.Context) ([]SweepInfo, error) {
	var out []SweepInfo
	err := s.view(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSweeps).ForEach(func(k, v []byte) error {
			var e sweepEntry
			if _, err := getJSON(tx.Bucket(bucketSweeps), k, &e); err != nil {
				return err
			}
			out = append(out, e.SweepInfo)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list sweeps: %w", err)
	}
	return out, nil
}

// Sweep returns one sweep's summary, or an error wrapping ErrNotFound.
func (s *Store) Sweep(ctx context.Context, name string) (*SweepInfo, error) {
	var e sweepEntry
	err := s.view(ctx, func(tx *bolt.Tx) error { return getSweep(tx, name, &e) })
	if err != nil {
		return nil, err
	}
	return &e.SweepInfo, nil
}

// SweepSpec returns the canonical JSON of the spec a sweep was planned from,
// and the spec file as submitted (its name and content).
func (s *Store) SweepSpec(ctx context.Context, name string) (canonical []byte, sourceName string, source []byte, err error) {
	var e specEntry
	err = s.view(ctx, func(tx *bolt.Tx) error {
		found, err := getJSON(tx.Bucket(bucketSpecs), []byte(name), &e)
		if err == nil && !found {
			err = fmt.Errorf("sweep %q: %w", name, results.ErrNotFound)
		}
		return err
	})
	return e.Canonical, e.SourceName, e.Source, err
}

func getSweep(tx *bolt.Tx, name string, e *sweepEntry) error {
	found, err := getJSON(tx.Bucket(bucketSweeps), []byte(name), e)
	if err != nil {
		return fmt.Errorf("sweep %q: %w", name, err)
	}
	if !found {
		return fmt.Errorf("sweep %q: %w", name, results.ErrNotFound)
	}
	return nil
}

// Cancel marks a sweep cancelled and forgets its queued task messages (the
// caller purges them from the stream), giving those tasks a new generation.
// Results that still arrive are stored. A done sweep stays as it is.
// It returns the number of tasks that were queued.
func (s *Store) Cancel(ctx context.Context, name string) (int, error) {
	var n int
	err := s.changeSweep(ctx, "cancel", name, func(cache *sweepCache, e *sweepEntry, _ time.Time) (bool, error) {
		if e.State == SweepDone {
			return false, nil
		}
		e.State = SweepCancelled
		queued, tasks := cache.tx.Bucket(bucketQueued), cache.tx.Bucket(bucketTasks)
		return true, forOrder(cache.tx, name, func(_ uint64, id []byte) error {
			var q queuedEntry
			found, err := getJSON(queued, id, &q)
			if err != nil || !found || q.Sweep != name {
				return err
			}
			n++
			// A new generation gives the task a new message ID: the
			// purged message's ID stays in the stream's dedup window.
			var t taskEntry
			if _, err := getJSON(tasks, id, &t); err != nil {
				return err
			}
			t.Gen++
			if err := putJSON(tasks, id, &t); err != nil {
				return err
			}
			return queued.Delete(id)
		})
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// Retry makes the sweep's failed tasks pending again, with a new generation
// (a fresh message ID), and the sweep running. Their last error is kept in
// the task until a new outcome arrives. It returns how many tasks it reset.
func (s *Store) Retry(ctx context.Context, name string) (int, error) {
	return s.resetTasks(ctx, "retry", name, results.StateFailed, nil)
}

// resetTasks makes the named sweep's tasks in state (failed or stopped)
// pending again with a new generation, and a cancelled sweep running: each
// task's result is deleted once setAside (when not nil) has kept it
// elsewhere, and its sweeps' count of the state goes down. It returns how
// many tasks it reset.
func (s *Store) resetTasks(ctx context.Context, verb, name, state string,
	setAside func(tx *bolt.Tx, id, raw []byte, at time.Time) error) (int, error) {
	var n int
	err := s.changeSweep(ctx, verb, name, func(cache *sweepCache, e *sweepEntry, at time.Time) (bool, error) {
		tasks, res := cache.tx.Bucket(bucketTasks), cache.tx.Bucket(bucketResults)
		err := forOrder(cache.tx, name, func(_ uint64, id []byte) error {
			var t taskEntry
			if _, err := getJSON(tasks, id, &t); err != nil {
				return err
			}
			if t.State != state {
				return nil
			}
			if setAside != nil {
				if err := setAside(cache.tx, id, bytes.Clone(res.Get(id)), at); err != nil {
					return err
				}
			}
			err := cache.forSweeps(&t, func(se *sweepEntry) {
				switch state {
				case results.StateFailed:
					se.Failed--
				case results.StateStopped:
					se.Stopped--
				}
			})
			if err != nil {
				return err
			}
			t.State, t.Status, t.Digest = results.StatePending, "", ""
			t.Gen++
			t.Rejected = 0
			t.Updated = at
			n++
			if err := res.Delete(id); err != nil {
				return err
			}
			return putJSON(tasks, id, &t)
		})
		if err != nil {
			return false, err
		}
		if e.State == SweepCancelled {
			e.State = SweepRunning
		}
		return true, nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// changeSweep runs change on the named sweep's summary in one write
// transaction (an error wrapping ErrNotFound if there is no such sweep),
// then settles and writes back every summary in the cache, stamped at the
// time given to change. change reports whether it changed anything: if
// not, no summary is written. verb names the change in errors. It waits for
// a PlanSweep in progress, whose last transaction rewrites the summary.
func (s *Store) changeSweep(ctx context.Context, verb, name string, change func(cache *sweepCache, e *sweepEntry, at time.Time) (changed bool, err error)) error {
	s.planMu.Lock()
	defer s.planMu.Unlock()
	err := s.update(ctx, func(tx *bolt.Tx) error {
		cache := newSweepCache(tx)
		e, err := cache.existing(name)
		if err != nil {
			return err
		}
		at := now()
		changed, err := change(cache, e, at)
		if err != nil || !changed {
			return err
		}
		_, err = cache.flush(at)
		return err
	})
	if err != nil {
		return fmt.Errorf("%s sweep %q: %w", verb, name, err)
	}
	return nil
}

// forOrder calls fn with each planned task of the sweep in ordinal order.
// id is only valid during the call.
func forOrder(tx *bolt.Tx, sweep string, fn func(ordinal uint64, id []byte) error) error {
	order := tx.Bucket(bucketOrders).Bucket([]byte(sweep))
	if order == nil {
		return fmt.Errorf("sweep %q: %w", sweep, results.ErrNotFound)
	}
	c := order.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if err := fn(decodeU64(k), v); err != nil {
			return err
		}
	}
	return nil
}
