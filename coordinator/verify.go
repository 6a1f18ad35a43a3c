package coordinator

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sgsweep/sgsweep/internal/retry"
	"github.com/sgsweep/sgsweep/protocol"
	"github.com/sgsweep/sgsweep/results"
	"github.com/sgsweep/sgsweep/results/store"
	"github.com/sgsweep/sgsweep/sweep"
)

// Verification by recomputation (a spec's verify block, sweep.Verify):
// once a task picked by its sweep's draw has its first result committed,
// the coordinator records a verification (store.StartVerify: a new
// generation) and publishes the task again with TaskMsg.Verify naming the
// worker of that result, which refuses it; another worker computes it,
// and the commit compares the digests (the store's duplicate and conflict
// counting): equal verifies the task, different disputes it and keeps both
// results. `retry --disputed` publishes disputed tasks once more for a
// worker that gave neither result.
//
// A verification is published again until the server takes it
// (publishVerificationSoon); one whose message is lost (a crash between
// its record and its publication, a purged stream) is published again
// when the coordinator starts (republishVerifications).

// verifyBook caches each sweep's verify block (nil: none), read from its
// stored spec at the first result committed after a start or a submit.
type verifyBook struct {
	mu     sync.Mutex
	sweeps map[string]*sweep.Verify
}

// verifyOf returns the sweep's verify block, nil without one.
func (c *Coordinator) verifyOf(ctx context.Context, name string) (*sweep.Verify, error) {
	b := &c.verifies
	b.mu.Lock()
	defer b.mu.Unlock()
	if v, ok := b.sweeps[name]; ok {
		return v, nil
	}
	_, sourceName, source, err := c.store.SweepSpec(ctx, name)
	if err != nil {
		return nil, err
	}
	var v *sweep.Verify
	if spec, err := sweep.Parse(sourceName, source); err != nil {
		c.log.Error("no verification: the sweep's stored spec does not parse", "sweep", name, "err", err)
	} else {
		v = spec.Verify()
	}
	if b.sweeps == nil {
		b.sweeps = map[string]*sweep.Verify{}
	}
	b.sweeps[name] = v
	return v, nil
}

// forgetVerify drops a sweep's cached verify block (its spec was planned
// again).
func (c *Coordinator) forgetVerify(name string) {
	c.verifies.mu.Lock()
	delete(c.verifies.sweeps, name)
	c.verifies.mu.Unlock()
}

// verifyCommitted starts the verification of the tasks whose first result
// a commit stored, where their sweep's draw picks them. Failures are
// logged: the results are committed either way.
func (c *Coordinator) verifyCommitted(ctx context.Context, in []store.Incoming, rep *store.CommitReport) {
	if len(rep.Settled) == 0 {
		return
	}
	settled := make(map[string]bool, len(rep.Settled))
	for _, id := range rep.Settled {
		settled[id] = true
	}
	for _, inc := range in {
		r := inc.Result
		if !settled[r.TaskID] || r.Status == protocol.StatusFailed || r.Status == protocol.StatusStopped {
			continue
		}
		settled[r.TaskID] = false // once per task
		v, err := c.verifyOf(ctx, r.Sweep)
		if err != nil {
			c.log.Warn("verification: reading the sweep's spec", "sweep", r.Sweep, "err", err)
			continue
		}
		if !v.Picks(r.TaskID) {
			continue
		}
		ver, ok, err := c.store.StartVerify(ctx, r.Sweep, r.TaskID, r.Provenance.Worker)
		if err != nil {
			c.log.Warn("verification of a task not started", "sweep", r.Sweep, "task", r.TaskID, "err", err)
		} else if ok {
			go c.publishVerificationSoon(ctx, r.Params, ver)
		}
	}
}

// publishVerificationSoon publishes a verification as soon as it can. The
// task's message that gave the first result must leave the task stream
// first (its worker acks it just after its result was stored; until then
// the stream refuses a second message on the task's subject), and the
// server must take the message: both are waited for, as long as the
// coordinator runs. A verification still unpublished when it stops stays
// pending and is published at the next start (republishVerifications).
func (c *Coordinator) publishVerificationSoon(ctx context.Context, params json.RawMessage, ver store.Verification) {
	queued := retry.Backoff{Base: 250 * time.Millisecond, Max: 5 * time.Second, Linear: true}
	var failures retry.Streak
	log := c.log.With("sweep", ver.Sweep, "task", ver.TaskID)
	for try := 1; ; try++ {
		err := c.publishVerification(ctx, params, ver)
		switch {
		case err == nil || ctx.Err() != nil:
			return
		case isAlreadyQueued(err):
			queued.Wait(ctx, try)
		default:
			failures.Fail(ctx, log, "verification of a task not published yet; trying again", err)
		}
	}
}

// publishVerification publishes a task message recomputing the task for a
// worker that is not among ver.Workers.
func (c *Coordinator) publishVerification(ctx context.Context, params json.RawMessage, ver store.Verification) error {
	c.publishMu.Lock()
	defer c.publishMu.Unlock()
	t := protocol.NewTaskMsg(ver.Sweep, sweep.Task{ID: ver.TaskID, Params: params}, ver.Gen, time.Now().UTC())
	t.Verify = &protocol.Verification{Workers: ver.Workers}
	t.Ticket = c.tickets.Ticket(t.Sweep, t.TaskID, t.Gen)
	data, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("encode task %s: %w", t.TaskID, err)
	}
	_, err = c.js.PublishMsg(ctx, &nats.Msg{Subject: protocol.TaskSubject(t.Sweep, t.TaskID), Data: data},
		jetstream.WithMsgID(taskMsgID(t)))
	if err != nil {
		return fmt.Errorf("publish the verification of task %s: %w", t.TaskID, err)
	}
	c.published.Add(1)
	c.log.Debug("verification published", "sweep", ver.Sweep, "task", t.TaskID, "not_by", ver.Workers)
	return nil
}

// retryDisputed publishes the sweep's disputed tasks once more, for a
// worker that gave none of their results; it returns how many.
func (c *Coordinator) retryDisputed(ctx context.Context, name string) (int, error) {
	vers, err := c.store.RetryDisputed(ctx, name)
	if err != nil {
		return 0, err
	}
	for _, ver := range vers {
		params, _, _, err := c.store.TaskOf(ctx, name, ver.TaskID)
		if err == nil {
			err = c.publishVerification(ctx, params, ver)
		}
		if err != nil {
			return 0, err
		}
	}
	return len(vers), nil
}

// NoteDisputes adds a note on the sweep's verification to a results table
// when some of its tasks are disputed: their stored results are in the
// table, and a recomputation gave other numbers.
func NoteDisputes(ctx context.Context, db *store.Store, tab *results.Table, sweepName string) error {
	info, err := db.Sweep(ctx, sweepName)
	if err != nil || info.Disputed == 0 {
		return err
	}
	tab.Notes = append(tab.Notes, fmt.Sprintf("%d tasks disputed: a recomputation by another worker gave other "+
		"numbers (%d verified); their first results are used here (sgsweep status names the workers; "+
		"retry --disputed settles them)", info.Disputed, info.Verified))
	return nil
}

// republishVerifications publishes the pending verifications whose task
// message is not in the task stream (lost in a crash, purged): those in it
// are refused as already queued. It runs at start, after the results
// waiting have been committed.
func (c *Coordinator) republishVerifications(ctx context.Context) {
	var pending []store.Verification
	err := c.store.PendingVerifications(ctx, func(v store.Verification) error {
		pending = append(pending, v)
		return nil
	})
	if err != nil {
		c.log.Warn("pending verifications not read; they stay pending", "err", err)
		return
	}
	published := 0
	for _, ver := range pending {
		params, _, _, err := c.store.TaskOf(ctx, ver.Sweep, ver.TaskID)
		if err == nil {
			err = c.publishVerification(ctx, params, ver)
		}
		switch {
		case err == nil:
			published++
		case isAlreadyQueued(err):
		case ctx.Err() != nil:
			return
		default:
			c.log.Warn("verification of a task not published; it stays pending", "sweep", ver.Sweep,
				"task", ver.TaskID, "err", err)
		}
	}
	if published > 0 {
		c.log.Info("pending verifications published again", "tasks", published)
	}
}
