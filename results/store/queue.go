package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/sgsweep/sgsweep/protocol"
	"github.com/sgsweep/sgsweep/results"
	"github.com/sgsweep/sgsweep/sweep"
	bolt "go.etcd.io/bbolt"
)

// The queued bucket records which pending tasks have a message in the task
// stream (the server acknowledged the publication), so that resuming
// publishes only the others. NATS stays the authority on what is in the
// stream: the coordinator reconciles this record with the stream's subjects
// when their counts disagree (after a crash between a publication and its
// record).

// QueuedTask says that the task's message is in the task stream under the
// sweep's subject.
type QueuedTask struct {
	Sweep  string
	TaskID string
	Gen    int
	// Seq is the message's stream sequence (0 when unknown).
	Seq uint64
}

// ToPublish returns the task messages (protocol.NewTaskMsg) of up to limit
// pending, unqueued tasks of the sweep (none unless it is running), in
// ordinal order starting at ordinal from, and the ordinal to continue from
// (-1 when the sweep's order is exhausted). The messages carry the stored
// params and the task's generation (part of the message ID); EnqueuedAt is
// left zero for the publisher to set. ToPublish holds a read transaction
// only for the call, so the caller can publish and record between calls.
func (s *Store) ToPublish(ctx context.Context, sweepName string, from, limit int) ([]*protocol.TaskMsg, int, error) {
	var out []*protocol.TaskMsg
	next := -1
	err := s.view(ctx, func(tx *bolt.Tx) error {
		var e sweepEntry
		if err := getSweep(tx, sweepName, &e); err != nil {
			return err
		}
		if e.State != SweepRunning {
			return nil
		}
		order := tx.Bucket(bucketOrders).Bucket([]byte(sweepName))
		if order == nil {
			return fmt.Errorf("sweep %q: %w", sweepName, results.ErrNotFound)
		}
		tasks, queued := tx.Bucket(bucketTasks), tx.Bucket(bucketQueued)
		c := order.Cursor()
		for k, id := c.Seek(u64Key(uint64(from))); k != nil; k, id = c.Next() {
			ordinal := int(decodeU64(k))
			if len(out) == limit {
				next = ordinal
				return nil
			}
			if queued.Get(id) != nil {
				continue
			}
			var t taskEntry
			if _, err := getJSON(tasks, id, &t); err != nil {
				return err
			}
			if t.State != results.StatePending {
				continue
			}
			task := sweep.Task{Ordinal: ordinal, ID: string(id), Params: getParams(tx, id)}
			out = append(out, protocol.NewTaskMsg(sweepName, task, t.Gen, time.Time{}))
		}
		return nil
	})
	if err != nil {
		return nil, -1, fmt.Errorf("tasks to publish: %w", err)
	}
	return out, next, nil
}

// MarkQueued records published task messages. Tasks that are no longer
// pending (their result arrived meanwhile) are skipped.
func (s *Store) MarkQueued(ctx context.Context, qs []QueuedTask) error {
	err := s.update(ctx, func(tx *bolt.Tx) error {
		tasks, queued := tx.Bucket(bucketTasks), tx.Bucket(bucketQueued)
		at := now()
		for _, q := range qs {
			var t taskEntry
			found, err := getJSON(tasks, []byte(q.TaskID), &t)
			if err != nil {
				return err
			}
			if !found || t.State != results.StatePending {
				continue
			}
			err = putJSON(queued, []byte(q.TaskID), queuedEntry{Sweep: q.Sweep, Gen: q.Gen, Seq: q.Seq, At: at})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record queued tasks: %w", err)
	}
	return nil
}

// Unqueue forgets that tasks have a message in the task stream (it was lost
// or purged), so that they are published again.
func (s *Store) Unqueue(ctx context.Context, ids []string) error {
	err := s.update(ctx, func(tx *bolt.Tx) error {
		queued := tx.Bucket(bucketQueued)
		for _, id := range ids {
			if err := queued.Delete([]byte(id)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("unqueue tasks: %w", err)
	}
	return nil
}

// QueuedTasks calls fn with every recorded queued task, in task ID order.
func (s *Store) QueuedTasks(ctx context.Context, fn func(QueuedTask) error) error {
	return s.view(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketQueued).ForEach(func(k, v []byte) error {
			var q queuedEntry
			if err := json.Unmarshal(v, &q); err != nil {
				return fmt.Errorf("decode queued %s: %w", k, err)
			}
			return fn(QueuedTask{Sweep: q.Sweep, TaskID: string(k), Gen: q.Gen, Seq: q.Seq})
		})
	})
}

// TaskState returns a task's state (pending, done or failed) and its
// generation; found is false for an unknown task.
func (s *Store) TaskState(ctx context.Context, id string) (state string, gen int, found bool, err error) {
	err = s.view(ctx, func(tx *bolt.Tx) error {
		var t taskEntry
		found, err = getJSON(tx.Bucket(bucketTasks), []byte(id), &t)
		state, gen = t.State, t.Gen
		return err
	})
	return state, gen, found, err
}
