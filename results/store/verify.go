package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/sgsweep/sgsweep/protocol"
	"github.com/sgsweep/sgsweep/results"
	bolt "go.etcd.io/bbolt"
)

// Verification by recomputation: a done task picked by its sweep's verify
// draw is published once more (StartVerify, a new generation) for another
// worker, and the result that comes back with that generation's ticket
// (Incoming.Gen) is compared with the stored one. The comparison reuses
// the commit's duplicate and conflict counting: an identical result
// verifies the task, a differing one (kept aside as a conflict) disputes
// it, and the task entry names the workers.

// Verification states of a task.
const (
	VerifyPending  = "pending"
	VerifyVerified = "verified"
	VerifyDisputed = "disputed"
)

// verifyEntry is a task's verification (taskEntry.Verify).
type verifyEntry struct {
	State string `json:"state"`
	// Sweep published the recomputation.
	Sweep string `json:"sweep"`
	// Gen is the generation of the task message that recomputes the task:
	// only a result with its ticket counts.
	Gen int `json:"gen"`
	// Workers are the workers whose results were compared, the stored
	// result's first; none of them may recompute the task.
	Workers []string `json:"workers"`
}

// Verification is a task to publish for recomputation.
type Verification struct {
	Sweep  string
	TaskID string
	Gen    int
	// Workers may not compute it: they gave the results compared so far.
	Workers []string
}

// StartVerify records that a done task is to be computed again by a
// worker other than the stored result's, at a new generation, published
// by the sweep; it returns the verification. ok is false (nothing
// changed) unless the task is done and has not been verified before.
func (s *Store) StartVerify(ctx context.Context, sweepName, taskID, worker string) (v Verification, ok bool, err error) {
	err = s.update(ctx, func(tx *bolt.Tx) error {
		tasks := tx.Bucket(bucketTasks)
		var t taskEntry
		found, err := getJSON(tasks, []byte(taskID), &t)
		if err != nil || !found || t.State != results.StateDone || t.Verify != nil {
			return err
		}
		t.Gen++
		t.Verify = &verifyEntry{State: VerifyPending, Sweep: sweepName, Gen: t.Gen, Workers: []string{worker}}
		v, ok = t.Verify.of(taskID), true
		return putJSON(tasks, []byte(taskID), &t)
	})
	if err != nil {
		return Verification{}, false, fmt.Errorf("start verification of %s: %w", taskID, err)
	}
	return v, ok, nil
}

func (v *verifyEntry) of(taskID string) Verification {
	return Verification{Sweep: v.Sweep, TaskID: taskID, Gen: v.Gen, Workers: slices.Clone(v.Workers)}
}

// PendingVerifications calls fn with every verification whose result has
// not come (in task ID order), so that a restarted coordinator publishes
// again those whose message was lost. It reads every task.
func (s *Store) PendingVerifications(ctx context.Context, fn func(Verification) error) error {
	return s.view(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketTasks).ForEach(func(k, data []byte) error {
			if !bytes.Contains(data, []byte(`"verify":`)) {
				return nil // most tasks: not decoded
			}
			var t taskEntry
			if err := json.Unmarshal(data, &t); err != nil {
				return fmt.Errorf("decode task %s: %w", k, err)
			}
			if t.Verify == nil || t.Verify.State != VerifyPending || t.Verify.Sweep == "" {
				return nil
			}
			return fn(t.Verify.of(string(k)))
		})
	})
}

// RetryDisputed makes the sweep's disputed tasks pending verification
// again at a new generation, for a worker that gave none of their results
// so far; the third result is compared with the stored one. It returns
// the verifications to publish.
func (s *Store) RetryDisputed(ctx context.Context, name string) ([]Verification, error) {
	var out []Verification
	err := s.changeSweep(ctx, "retry disputed", name, func(cache *sweepCache, e *sweepEntry, at time.Time) (bool, error) {
		tasks := cache.tx.Bucket(bucketTasks)
		err := forOrder(cache.tx, name, func(_ uint64, id []byte) error {
			var t taskEntry
			if _, err := getJSON(tasks, id, &t); err != nil {
				return err
			}
			if t.Verify == nil || t.Verify.State != VerifyDisputed {
				return nil
			}
			if err := cache.forSweeps(&t, func(se *sweepEntry) { se.Disputed-- }); err != nil {
				return err
			}
			t.Gen++
			t.Verify.State, t.Verify.Gen = VerifyPending, t.Gen
			t.Updated = at
			t.Verify.Sweep = name
			out = append(out, t.Verify.of(string(id)))
			return putJSON(tasks, id, &t)
		})
		return len(out) > 0, err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// verify compares a result with the stored result of a task pending
// verification, if it is the recomputation: it carries the ticket of the
// verification's generation and comes from a worker not compared yet.
// same says whether its digest is the stored one. A recomputation that
// differs disputes the task, unless it is a third opinion that agrees with
// a differing result kept aside (retry --disputed): the two outvote the
// stored one, the task is verified, and slot is that result's conflict
// number, for the caller to overrule; else slot is -1.
func (c *committer) verify(t *taskEntry, in Incoming, same bool) (slot int, err error) {
	v, r := t.Verify, in.Result
	if v == nil || v.State != VerifyPending || in.Gen != v.Gen || slices.Contains(v.Workers, r.Provenance.Worker) {
		return -1, nil
	}
	v.Workers = append(v.Workers, r.Provenance.Worker)
	slot = -1
	if !same && len(v.Workers) > 2 {
		if slot, err = c.keptAside(t, r.TaskID, r.Digest); err != nil {
			return -1, err
		}
	}
	if same || slot >= 0 {
		v.State = VerifyVerified
		return slot, c.cache.forSweeps(t, func(e *sweepEntry) { e.Verified++ })
	}
	v.State = VerifyDisputed
	return -1, c.cache.forSweeps(t, func(e *sweepEntry) { e.Disputed++ })
}

// keptAside returns the number of the task's first conflict (a differing
// result kept aside) with the digest, -1 if none has it.
func (c *committer) keptAside(t *taskEntry, taskID, digest string) (int, error) {
	b := c.tx.Bucket(bucketConflicts)
	for n := range t.Conflicts {
		var other struct{ Digest string }
		if data := b.Get(conflictKey(taskID, n)); data != nil {
			if err := json.Unmarshal(data, &other); err != nil {
				return -1, fmt.Errorf("decode conflict %d of %s: %w", n, taskID, err)
			}
			if other.Digest == digest {
				return n, nil
			}
		}
	}
	return -1, nil
}

// overrule stores the recomputation in as the task's result in place of
// the one it and conflict number slot outvoted, which takes that slot:
// the conflicts then hold the outvoted result, and the recomputation
// counts as a duplicate of the result it agrees with.
func (c *committer) overrule(t *taskEntry, id []byte, in Incoming, slot int) error {
	results := c.tx.Bucket(bucketResults)
	old := bytes.Clone(results.Get(id))
	if err := results.Put(id, in.Raw); err != nil {
		return err
	}
	if err := c.tx.Bucket(bucketConflicts).Put(conflictKey(string(id), slot), old); err != nil {
		return err
	}
	t.Duplicates++
	c.counters.Duplicates++
	c.rep.Duplicates++
	was, now := t.Status == protocol.StatusDiverged, in.Result.Status == protocol.StatusDiverged
	t.Status, t.Digest = in.Result.Status, in.Result.Digest
	return c.cache.forSweeps(t, func(e *sweepEntry) {
		e.Duplicates++
		switch {
		case was && !now:
			e.Diverged--
		case now && !was:
			e.Diverged++
		}
	})
}

// countVerify adds a planned task's verification to the sweep's counters.
func (e *sweepEntry) countVerify(t *taskEntry) {
	switch {
	case t.Verify == nil:
	case t.Verify.State == VerifyVerified:
		e.Verified++
	case t.Verify.State == VerifyDisputed:
		e.Disputed++
	}
}

// Dispute is a disputed task: Workers gave differing results, the stored
// one's first.
type Dispute struct {
	TaskID  string   `json:"task_id"`
	Ordinal int      `json:"ordinal"`
	Workers []string `json:"workers"`
}

// Disputes lists up to limit disputed tasks of the sweep in ordinal order
// (all when limit ≤ 0).
func (s *Store) Disputes(ctx context.Context, name string, limit int) ([]Dispute, error) {
	var out []Dispute
	err := s.view(ctx, func(tx *bolt.Tx) error {
		var e sweepEntry
		if err := getSweep(tx, name, &e); err != nil || e.Disputed == 0 {
			return err
		}
		tasks := tx.Bucket(bucketTasks)
		return forOrder(tx, name, func(ordinal uint64, id []byte) error {
			if limit > 0 && len(out) == limit {
				return nil
			}
			var t taskEntry
			if _, err := getJSON(tasks, id, &t); err != nil {
				return err
			}
			if t.Verify != nil && t.Verify.State == VerifyDisputed {
				out = append(out, Dispute{TaskID: string(id), Ordinal: int(ordinal), Workers: t.Verify.Workers})
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("disputes of %s: %w", name, err)
	}
	return out, nil
}
