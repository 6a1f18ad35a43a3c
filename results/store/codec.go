package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/sgsweep/sgsweep/results"
	bolt "go.etcd.io/bbolt"
)

// Buckets of the layout; see doc.go.
var (
	bucketMeta      = []byte("meta")
	bucketSweeps    = []byte("sweeps")
	bucketOrders    = []byte("orders")
	bucketStaging   = []byte("staging")
	bucketSpecs     = []byte("specs")
	bucketTasks     = []byte("tasks")
	bucketParams    = []byte("params")
	bucketResults   = []byte("results")
	bucketConflicts = []byte("conflicts")
	bucketQueued    = []byte("queued")
	bucketRejected  = []byte("rejected")

	allBuckets = [][]byte{bucketMeta, bucketSweeps, bucketSpecs, bucketOrders, bucketStaging, bucketTasks,
		bucketParams, bucketResults, bucketConflicts, bucketQueued, bucketRejected}

	keySchema   = []byte("schema")
	keyCreated  = []byte("created")
	keyCounters = []byte("counters")
)

// sweepEntry is the value of sweeps/<name>: the public summary, rewritten
// whenever a task of the sweep settles (so it stays small: the spec is in
// specs/).
type sweepEntry struct {
	SweepInfo
	// PlanDigest is the SHA-256 of the planned task IDs in ordinal order: it
	// changes when the same spec expands to other tasks (a new model version).
	PlanDigest string `json:"plan_digest"`
}

// specEntry is the value of specs/<name>: the spec a sweep was planned from.
type specEntry struct {
	// Canonical is the canonical JSON of the spec (sweep.Spec.Canonical).
	Canonical json.RawMessage `json:"canonical"`
	// SourceName and Source are the spec file as submitted.
	SourceName string `json:"source_name,omitempty"`
	Source     []byte `json:"source,omitempty"`
}

// taskEntry is the value of tasks/<task ID>: one task's state, shared by every
// sweep that plans it (task IDs are content hashes). Its parameters are in
// params/<task ID>.
type taskEntry struct {
	// State is pending, done or failed.
	State string `json:"state"`
	// Status is the stored result's status (ok, diverged, failed); empty
	// without a result.
	Status string `json:"status,omitempty"`
	// Digest is the stored result's digest.
	Digest string `json:"digest,omitempty"`
	// Attempts is the highest delivery count seen for the task.
	Attempts int `json:"attempts,omitempty"`
	// Error is the last error (kept across a retry).
	Error string `json:"error,omitempty"`
	// Gen counts deliberate re-publications (retry, cancel); part of the
	// task message's Nats-Msg-Id.
	Gen int `json:"gen,omitempty"`
	// Duplicates counts identical results received after the first;
	// Conflicts counts differing ones (kept in the conflicts bucket).
	Duplicates int `json:"duplicates,omitempty"`
	Conflicts  int `json:"conflicts,omitempty"`
	// Rejected counts results of this generation rejected against the
	// task's delivery budget (Charge); reset by a retry.
	Rejected int `json:"rejected,omitempty"`
	// Verify is the task's verification by recomputation (verify.go).
	Verify *verifyEntry `json:"verify,omitempty"`
	// Sweeps names the sweeps that plan the task.
	Sweeps  []string  `json:"sweeps,omitempty"`
	Updated time.Time `json:"updated"`
}

func (e *taskEntry) addSweep(name string) bool {
	if slices.Contains(e.Sweeps, name) {
		return false
	}
	e.Sweeps = append(e.Sweeps, name)
	return true
}

func (e *taskEntry) removeSweep(name string) {
	e.Sweeps = slices.DeleteFunc(e.Sweeps, func(s string) bool { return s == name })
}

// queuedEntry is the value of queued/<task ID>: the task message is in the
// task stream under sweep's subject (PubAck received), not yet settled.
type queuedEntry struct {
	Sweep string `json:"sweep"`
	Gen   int    `json:"gen"`
	// Seq is the stream sequence of the message (0 when unknown).
	Seq uint64    `json:"seq,omitempty"`
	At  time.Time `json:"at"`
}

// rejectedEntry is the value of rejected/<u64 BE>: a message that could not
// be used, set aside with the reason.
type rejectedEntry struct {
	Rejection
	At time.Time `json:"at"`
}

// counters is the value of meta/counters: store-wide totals.
type counters struct {
	Duplicates int `json:"duplicates"`
	Conflicts  int `json:"conflicts"`
	Rejected   int `json:"rejected"`
}

// putParams stores a task's parameters unless present; present ones must
// be the same (a task ID is their hash).
func putParams(tx *bolt.Tx, id []byte, params []byte) error {
	b := tx.Bucket(bucketParams)
	old := b.Get(id)
	if old == nil {
		return b.Put(id, params)
	}
	if !bytes.Equal(old, params) {
		return fmt.Errorf("task %s: params differ from the stored task with the same ID", id)
	}
	return nil
}

// getParams returns a copy of a task's parameters (nil if unknown).
func getParams(tx *bolt.Tx, id []byte) json.RawMessage {
	if p := tx.Bucket(bucketParams).Get(id); p != nil {
		return bytes.Clone(p)
	}
	return nil
}

func getJSON(b *bolt.Bucket, key []byte, v any) (bool, error) {
	data := b.Get(key)
	if data == nil {
		return false, nil
	}
	if err := json.Unmarshal(data, v); err != nil {
		return true, fmt.Errorf("decode %s: %w", key, err)
	}
	return true, nil
}

func putJSON(b *bolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", key, err)
	}
	return b.Put(key, data)
}

func u64Key(n uint64) []byte {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], n)
	return k[:]
}

// conflictKey is <task ID> || u32 BE n: the n-th differing result of a task.
func conflictKey(task string, n int) []byte {
	k := make([]byte, len(task)+4)
	copy(k, task)
	binary.BigEndian.PutUint32(k[len(task):], uint32(n))
	return k
}

func loadCounters(tx *bolt.Tx) (counters, error) {
	var c counters
	_, err := getJSON(tx.Bucket(bucketMeta), keyCounters, &c)
	return c, err
}

func saveCounters(tx *bolt.Tx, c counters) error {
	return putJSON(tx.Bucket(bucketMeta), keyCounters, c)
}

// sweepCache holds the sweep entries a write transaction changes, so that each
// is decoded and encoded once per transaction.
type sweepCache struct {
	tx      *bolt.Tx
	entries map[string]*sweepEntry
}

func newSweepCache(tx *bolt.Tx) *sweepCache {
	return &sweepCache{tx: tx, entries: map[string]*sweepEntry{}}
}

// get returns the sweep's entry, or nil if there is no such sweep.
func (c *sweepCache) get(name string) (*sweepEntry, error) {
	if e, ok := c.entries[name]; ok {
		return e, nil
	}
	var e sweepEntry
	found, err := getJSON(c.tx.Bucket(bucketSweeps), []byte(name), &e)
	if err != nil || !found {
		return nil, err
	}
	c.entries[name] = &e
	return &e, nil
}

// existing returns the sweep's entry, or an error wrapping ErrNotFound if
// there is no such sweep.
func (c *sweepCache) existing(name string) (*sweepEntry, error) {
	e, err := c.get(name)
	if err == nil && e == nil {
		err = fmt.Errorf("sweep %q: %w", name, results.ErrNotFound)
	}
	return e, err
}

// put adds a new entry to the cache.
func (c *sweepCache) put(e *sweepEntry) { c.entries[e.Name] = e }

// flush settles finished sweeps and writes every cached entry back. It
// returns the names of the sweeps that became done.
func (c *sweepCache) flush(at time.Time) ([]string, error) {
	var finished []string
	names := make([]string, 0, len(c.entries))
	for name := range c.entries {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		e := c.entries[name]
		if e.settle(at) {
			finished = append(finished, name)
		}
		e.Updated = at
		if err := putJSON(c.tx.Bucket(bucketSweeps), []byte(name), e); err != nil {
			return nil, err
		}
	}
	return finished, nil
}

// settle derives Pending and moves a running sweep with nothing pending to
// done (and a done one with pending tasks back to running). It reports
// whether the sweep just became done.
func (e *sweepEntry) settle(at time.Time) bool {
	e.Pending = e.Expected - e.Done - e.Stopped - e.Failed
	switch {
	case e.State == SweepRunning && e.Pending == 0:
		e.State = SweepDone
		e.Finished = at
		return true
	case e.State == SweepDone && e.Pending > 0:
		e.State = SweepRunning
		e.Finished = time.Time{}
	}
	return false
}

// forSweeps applies fn to the entry of every sweep that plans the task.
func (c *sweepCache) forSweeps(t *taskEntry, fn func(*sweepEntry)) error {
	for _, name := range t.Sweeps {
		e, err := c.get(name)
		if err != nil {
			return err
		}
		if e != nil {
			fn(e)
		}
	}
	return nil
}
