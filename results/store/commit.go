package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/sgsweep/sgsweep/protocol"
	"github.com/sgsweep/sgsweep/results"
	bolt "go.etcd.io/bbolt"
)

// Incoming is a decoded, validated result message and its body as received
// (stored as is).
type Incoming struct {
	Result *protocol.ResultMsg
	Raw    []byte
	// Gen is the task generation whose ticket the result carries (0 when
	// unknown): a result with the ticket of a verification's generation
	// is that verification's recomputation (verify.go).
	Gen int
}

// Rejection is a message that could not be used (undecodable, unknown schema,
// inconsistent), set aside in the store with the reason.
type Rejection struct {
	// Stream and Subject say where the message came from; Seq is its stream
	// sequence (0 when unknown).
	Stream  string `json:"stream"`
	Subject string `json:"subject"`
	Seq     uint64 `json:"seq,omitempty"`
	Reason  string `json:"reason"`
	// Data is the message body (nil when it was not available).
	Data []byte `json:"data,omitempty"`
	// Charge, when set, counts the rejection against a task's delivery
	// budget (a result rejected as implausible); it is not stored.
	Charge *Charge `json:"-"`
}

// Charge counts a rejected result against its task: a pending task that
// has had Budget results charged is settled failed with the last reason,
// so that a task whose every result is unusable is not published again
// forever. A task that is not pending is not charged.
type Charge struct {
	TaskID string
	// Budget is the most charged results a task takes (the coordinator's
	// MaxDeliver); the Budget-th fails it.
	Budget int
}

// Failure is a task that failed without a result message: it reached the
// delivery limit (its workers crashed) or its message was terminated.
type Failure struct {
	TaskID   string
	Error    string
	Attempts int
}

// CommitReport counts what one commit did.
type CommitReport struct {
	// Stored counts results (or failures) that settled a task.
	Stored int
	// Duplicates counts identical copies of stored results; Conflicts
	// differing ones (kept aside).
	Duplicates, Conflicts int
	// Ignored counts failures of tasks that already have a result, and
	// failures of unknown tasks.
	Ignored  int
	Rejected int
	// Settled lists the task IDs of the results (not failures) that
	// settled their task, in batch order.
	Settled []string
	// Charged lists the tasks that charged rejections settled failed
	// (counted in Stored).
	Charged []Failure
	// Finished names the sweeps this commit completed.
	Finished []string
}

// Commit writes a batch of results, failures and rejections in one
// transaction; the caller acknowledges the messages only after it returns nil.
// It is idempotent: a result is stored once per task however often it
// arrives. For a task that already has a result, an identical one (same
// digest) is counted as a duplicate and a differing one kept aside as a
// conflict; a failure never replaces a result, while a result replaces a
// failure. A result for a task no sweep plans is stored too (a later sweep
// that plans the task will not recompute it). A stopped result settles its
// task as stopped only if it carries the stop decision committed for it
// (CommitStop) and not overridden; otherwise it is rejected with the
// reason. A task with a stored (done or stopped) result keeps it: a later
// differing one, stopped or not, is a conflict.
func (s *Store) Commit(ctx context.Context, in []Incoming, failures []Failure, rejected []Rejection) (*CommitReport, error) {
	rep := &CommitReport{}
	err := s.update(ctx, func(tx *bolt.Tx) error {
		*rep = CommitReport{}
		c := &committer{tx: tx, cache: newSweepCache(tx), rep: rep}
		var err error
		if c.counters, err = loadCounters(tx); err != nil {
			return err
		}
		for _, r := range in {
			if err := c.result(r); err != nil {
				return err
			}
		}
		for _, f := range failures {
			if err := c.failure(f); err != nil {
				return err
			}
		}
		for _, r := range rejected {
			if err := c.reject(r); err != nil {
				return err
			}
		}
		if err := saveCounters(tx, c.counters); err != nil {
			return err
		}
		rep.Finished, err = c.cache.flush(now())
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("commit results: %w", err)
	}
	return rep, nil
}

// committer applies one batch inside a write transaction.
type committer struct {
	tx       *bolt.Tx
	cache    *sweepCache
	counters counters
	rep      *CommitReport
}

func (c *committer) result(in Incoming) error {
	r := in.Result
	if r == nil || r.TaskID == "" {
		return errors.New("result without task ID")
	}
	if r.Status == protocol.StatusStopped {
		reason, err := stopRefusal(c.tx, r)
		if err != nil {
			return err
		}
		if reason != "" {
			return c.reject(Rejection{Stream: protocol.StreamResults, Subject: protocol.ResultSubject(r.Sweep, r.TaskID),
				Reason: reason, Data: in.Raw})
		}
	}
	id := []byte(r.TaskID)
	tasks := c.tx.Bucket(bucketTasks)
	var t taskEntry
	found, err := getJSON(tasks, id, &t)
	if err != nil {
		return err
	}
	if !found {
		t = taskEntry{State: results.StatePending}
		if len(r.Params) > 0 {
			if err := putParams(c.tx, id, r.Params); err != nil {
				return err
			}
		}
	}
	t.Attempts = max(t.Attempts, r.Provenance.Attempt)
	t.Updated = now()
	failed := r.Status == protocol.StatusFailed
	settled := t.State == results.StateDone || t.State == results.StateStopped

	switch {
	case settled && failed:
		c.rep.Ignored++
	case settled && r.Digest == t.Digest:
		if _, err := c.verify(&t, in, true); err != nil { // verify.go
			return err
		}
		t.Duplicates++
		c.counters.Duplicates++
		c.rep.Duplicates++
		if err := c.cache.forSweeps(&t, func(e *sweepEntry) { e.Duplicates++ }); err != nil {
			return err
		}
	case settled:
		slot, err := c.verify(&t, in, false)
		if err != nil {
			return err
		}
		if slot >= 0 { // the stored result is outvoted (verify.go)
			if err := c.overrule(&t, id, in, slot); err != nil {
				return err
			}
			break
		}
		if err := c.tx.Bucket(bucketConflicts).Put(conflictKey(r.TaskID, t.Conflicts), in.Raw); err != nil {
			return err
		}
		t.Conflicts++
		c.counters.Conflicts++
		c.rep.Conflicts++
		if err := c.cache.forSweeps(&t, func(e *sweepEntry) { e.Conflicts++ }); err != nil {
			return err
		}
	default: // pending or failed: this outcome settles the task
		if err := c.settle(&t, id, r.Status, r.Digest, r.Error); err != nil {
			return err
		}
		if err := c.tx.Bucket(bucketResults).Put(id, in.Raw); err != nil {
			return err
		}
		c.rep.Stored++
		c.rep.Settled = append(c.rep.Settled, r.TaskID)
	}
	return putJSON(tasks, id, &t)
}

// settle moves a pending or failed task to the outcome's state (done,
// stopped or failed) and updates
// the counters of every sweep that plans it.
func (c *committer) settle(t *taskEntry, id []byte, status, digest, errText string) error {
	prev := t.State
	next := results.StateDone
	switch status {
	case protocol.StatusFailed:
		next = results.StateFailed
		t.Error = errText
	case protocol.StatusStopped:
		next = results.StateStopped
	}
	err := c.cache.forSweeps(t, func(e *sweepEntry) {
		if prev == results.StateFailed {
			e.Failed--
		}
		switch next {
		case results.StateFailed:
			e.Failed++
			return
		case results.StateStopped:
			e.Stopped++
			return
		}
		e.Done++
		if status == protocol.StatusDiverged {
			e.Diverged++
		}
	})
	if err != nil {
		return err
	}
	t.State, t.Status, t.Digest = next, status, digest
	return c.tx.Bucket(bucketQueued).Delete(id)
}

func (c *committer) failure(f Failure) error {
	id := []byte(f.TaskID)
	tasks := c.tx.Bucket(bucketTasks)
	var t taskEntry
	found, err := getJSON(tasks, id, &t)
	if err != nil {
		return err
	}
	if !found || t.State != results.StatePending {
		c.rep.Ignored++
		return nil
	}
	t.Attempts = max(t.Attempts, f.Attempts)
	t.Updated = now()
	if err := c.settle(&t, id, protocol.StatusFailed, "", f.Error); err != nil {
		return err
	}
	c.rep.Stored++
	return putJSON(tasks, id, &t)
}

func (c *committer) reject(r Rejection) error {
	b := c.tx.Bucket(bucketRejected)
	seq, err := b.NextSequence()
	if err != nil {
		return err
	}
	c.counters.Rejected++
	c.rep.Rejected++
	if err := putJSON(b, u64Key(seq), rejectedEntry{Rejection: r, At: now()}); err != nil {
		return err
	}
	if r.Charge == nil {
		return nil
	}
	return c.charge(r.Charge, r.Reason)
}

// charge counts a rejected result against its pending task and fails the
// task when its budget is spent.
func (c *committer) charge(ch *Charge, reason string) error {
	id := []byte(ch.TaskID)
	tasks := c.tx.Bucket(bucketTasks)
	var t taskEntry
	found, err := getJSON(tasks, id, &t)
	if err != nil || !found || t.State != results.StatePending {
		return err
	}
	t.Rejected++
	t.Updated = now()
	if t.Rejected >= ch.Budget {
		t.Attempts = max(t.Attempts, t.Rejected)
		f := Failure{TaskID: ch.TaskID, Attempts: t.Attempts,
			Error: fmt.Sprintf("%d results rejected, the last: %s", t.Rejected, reason)}
		if err := c.settle(&t, id, protocol.StatusFailed, "", f.Error); err != nil {
			return err
		}
		c.rep.Stored++
		c.rep.Charged = append(c.rep.Charged, f)
	}
	return putJSON(tasks, id, &t)
}
