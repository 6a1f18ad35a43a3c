package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/sgsweep/sgsweep/protocol"
	"github.com/sgsweep/sgsweep/results"
	bolt "go.etcd.io/bbolt"
)

// Records calls fn with every planned task of the sweep, in ordinal order,
// with its state, its stored result and its stop decision while it holds
// (the task's params are in Record.Params only: Record.Result.Params is
// nil). It streams: one read transaction, a bounded window of Records in
// flight (fn must not keep the one it is given), fn called on the caller's
// goroutine. An unknown sweep is an error wrapping ErrNotFound; an error
// from fn stops the walk and is returned.
//
// The walk is a pipeline (see readPipeline): one goroutine looks the
// records up in the transaction, the others decode them, and fn gets them
// back in order.
func (s *Store) Records(ctx context.Context, name string, fn func(*results.Record) error) error {
	err := s.view(ctx, func(tx *bolt.Tx) error {
		if tx.Bucket(bucketSweeps).Get([]byte(name)) == nil {
			return fmt.Errorf("sweep %q: %w", name, results.ErrNotFound)
		}
		return s.readPipeline(ctx, tx, name, fn)
	})
	if err != nil {
		return fmt.Errorf("records of %q: %w", name, err)
	}
	return nil
}

// recordReader reads the records of one sweep in a transaction. It looks
// values up with one cursor per bucket, reused: bbolt's Bucket.Get makes
// a new cursor, and its search stack, per call.
type recordReader struct {
	name                   string
	tasks, params, results *bolt.Cursor
	stops                  *bolt.Cursor // the sweep's stop decisions; nil when none
}

func newRecordReader(tx *bolt.Tx, name string) *recordReader {
	rd := &recordReader{name: name, tasks: tx.Bucket(bucketTasks).Cursor(), params: tx.Bucket(bucketParams).Cursor(),
		results: tx.Bucket(bucketResults).Cursor()}
	if b := stopsOf(tx, name); b != nil {
		rd.stops = b.Cursor()
	}
	return rd
}

// get returns the value of key in c's bucket, nil when there is none (or
// it is a nested bucket), as Bucket.Get does.
func get(c *bolt.Cursor, key []byte) []byte {
	if c == nil {
		return nil
	}
	k, v := c.Seek(key)
	if !bytes.Equal(k, key) {
		return nil
	}
	return v
}

// rawRecord is a record as stored: the values of its task in the buckets,
// nil where there is none. They point into the transaction's memory map
// and are valid only while it is open.
type rawRecord struct {
	ordinal                    uint64
	id                         []byte
	task, params, stop, result []byte
}

// raw looks up the stored values of the task id at ordinal: the part of
// reading a record that uses the transaction.
func (rd *recordReader) raw(ordinal uint64, id []byte) rawRecord {
	return rawRecord{ordinal: ordinal, id: id, task: get(rd.tasks, id), params: get(rd.params, id),
		result: get(rd.results, id), stop: get(rd.stops, id)}
}

// record decodes a raw record of the sweep name: the part of reading a
// record that needs no transaction (only its memory map, while it is
// open), so that several goroutines can do it at once, each with its own
// dec.
func (raw *rawRecord) record(name string, dec *resultReader) (*results.Record, error) {
	var t taskEntry
	if raw.task != nil {
		if err := decodeTask(raw.task, &t); err != nil {
			return nil, fmt.Errorf("decode %s: %w", raw.id, err)
		}
	}
	r := &results.Record{
		Sweep:    name,
		Ordinal:  int(raw.ordinal),
		TaskID:   string(raw.id),
		State:    t.State,
		Attempts: t.Attempts,
		Error:    t.Error,
	}
	if raw.params != nil {
		r.Params = bytes.Clone(raw.params)
	}
	var err error
	if r.Stop, err = holdingStop(raw.stop, raw.id); err != nil {
		return nil, err
	}
	if raw.result != nil {
		r.Result = new(protocol.ResultMsg)
		// The stored message echoes the params (the on-disk format keeps
		// it); a Record has them once, in Params, from params/ unless
		// missing there.
		if err := dec.decode(raw.result, r.Result, r.Params == nil); err != nil {
			return nil, fmt.Errorf("decode result %s: %w", raw.id, err)
		}
		if r.Params == nil {
			r.Params = r.Result.Params
		}
		r.Result.Params = nil
	}
	return r, nil
}

// Record returns the record of one task of the sweep, as Records gives it.
// It reads the task by ID and finds its ordinal in the sweep's order (a
// scan of the order's keys only), instead of reading every record before
// it (about 5 ms for 100 000 tasks). An unknown sweep, or a task the sweep does not plan, is an error
// wrapping ErrNotFound.
func (s *Store) Record(ctx context.Context, name, taskID string) (*results.Record, error) {
	var r *results.Record
	err := s.view(ctx, func(tx *bolt.Tx) error {
		if tx.Bucket(bucketSweeps).Get([]byte(name)) == nil {
			return fmt.Errorf("sweep %q: %w", name, results.ErrNotFound)
		}
		var t taskEntry
		found, err := getTask(tx.Bucket(bucketTasks), []byte(taskID), &t)
		if err != nil {
			return err
		}
		if !found {
			return fmt.Errorf("sweep %q plans no task %q: %w", name, taskID, results.ErrNotFound)
		}
		order := tx.Bucket(bucketOrders).Bucket([]byte(name))
		if order == nil {
			return fmt.Errorf("sweep %q: %w", name, results.ErrNotFound)
		}
		c := order.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if string(v) == taskID {
				raw := newRecordReader(tx, name).raw(decodeU64(k), v)
				r, err = raw.record(name, new(resultReader))
				return err
			}
		}
		return fmt.Errorf("sweep %q plans no task %q: %w", name, taskID, results.ErrNotFound)
	})
	if err != nil {
		return nil, fmt.Errorf("record %s of %q: %w", taskID, name, err)
	}
	return r, nil
}

// Conflict is a differing result of a task that already had one.
type Conflict struct {
	TaskID string `json:"task_id"`
	// Stored and Other are the digests of the kept result and of the
	// differing one.
	Stored string `json:"stored"`
	Other  string `json:"other"`
	// Worker and Host say who computed the differing one.
	Worker string `json:"worker"`
	Host   string `json:"host"`
}

// Conflicts lists up to limit conflicts of tasks the sweep plans (all when
// limit ≤ 0), in task ID order.
func (s *Store) Conflicts(ctx context.Context, name string, limit int) ([]Conflict, error) {
	var out []Conflict
	err := s.view(ctx, func(tx *bolt.Tx) error {
		tasks := tx.Bucket(bucketTasks)
		c := tx.Bucket(bucketConflicts).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if limit > 0 && len(out) == limit {
				return nil
			}
			id := k[:len(k)-4]
			var t taskEntry
			if _, err := getTask(tasks, id, &t); err != nil {
				return err
			}
			if !slices.Contains(t.Sweeps, name) {
				continue
			}
			var other protocol.ResultMsg
			if err := json.Unmarshal(v, &other); err != nil {
				return fmt.Errorf("decode conflict %x: %w", k, err)
			}
			out = append(out, Conflict{TaskID: string(id), Stored: t.Digest, Other: other.Digest,
				Worker: other.Provenance.Worker, Host: other.Provenance.Host})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("conflicts of %q: %w", name, err)
	}
	return out, nil
}

// Rejected lists the last limit messages set aside (all when limit ≤ 0),
// oldest first, and the total.
func (s *Store) Rejected(ctx context.Context, limit int) ([]Rejection, int, error) {
	var out []Rejection
	var total int
	err := s.view(ctx, func(tx *bolt.Tx) error {
		cnt, err := loadCounters(tx)
		if err != nil {
			return err
		}
		total = cnt.Rejected
		c := tx.Bucket(bucketRejected).Cursor()
		for k, v := c.Last(); k != nil && (limit <= 0 || len(out) < limit); k, v = c.Prev() {
			var e rejectedEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("decode rejected %x: %w", k, err)
			}
			out = append(out, e.Rejection)
		}
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("rejected messages: %w", err)
	}
	slices.Reverse(out)
	return out, total, nil
}

// Totals are store-wide counts.
type Totals struct {
	Duplicates int `json:"duplicates"`
	Conflicts  int `json:"conflicts"`
	Rejected   int `json:"rejected"`
	// Queued counts tasks recorded as having a message in the task stream.
	Queued int `json:"queued"`
}

// Totals returns the store-wide counts.
func (s *Store) Totals(ctx context.Context) (Totals, error) {
	var t Totals
	err := s.view(ctx, func(tx *bolt.Tx) error {
		c, err := loadCounters(tx)
		if err != nil {
			return err
		}
		t = Totals{Duplicates: c.Duplicates, Conflicts: c.Conflicts, Rejected: c.Rejected,
			Queued: tx.Bucket(bucketQueued).Stats().KeyN}
		return nil
	})
	return t, err
}

// FailedTask is a failed task of a sweep and why it failed.
type FailedTask struct {
	Ordinal  int    `json:"ordinal"`
	TaskID   string `json:"task_id"`
	Attempts int    `json:"attempts"`
	Error    string `json:"error"`
}

// FailedTasks lists up to limit failed tasks of the sweep in ordinal order
// (all when limit ≤ 0).
func (s *Store) FailedTasks(ctx context.Context, name string, limit int) ([]FailedTask, error) {
	var out []FailedTask
	stop := errors.New("enough")
	err := s.view(ctx, func(tx *bolt.Tx) error {
		tasks := tx.Bucket(bucketTasks)
		return forOrder(tx, name, func(ordinal uint64, id []byte) error {
			var t taskEntry
			if _, err := getTask(tasks, id, &t); err != nil {
				return err
			}
			if t.State != results.StateFailed {
				return nil
			}
			out = append(out, FailedTask{Ordinal: int(ordinal), TaskID: string(id), Attempts: t.Attempts, Error: t.Error})
			if len(out) == limit {
				return stop
			}
			return nil
		})
	})
	if err != nil && !errors.Is(err, stop) {
		return nil, fmt.Errorf("failed tasks of %q: %w", name, err)
	}
	return out, nil
}
