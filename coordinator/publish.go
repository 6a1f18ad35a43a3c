package coordinator

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sgsweep/sgsweep/protocol"
	"github.com/sgsweep/sgsweep/results/store"
)

// publishLoop runs a publish pass at start and on every kick (submit, retry,
// cancel, a reconciliation that found lost tasks), after reconciling the
// store's record of queued tasks with the streams once.
func (c *Coordinator) publishLoop(ctx context.Context) error {
	s, err := c.current()
	if err != nil {
		return err
	}
	reconciled := false
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-c.kick:
		}
		err := error(nil)
		if !reconciled {
			if _, err = c.reconcile(ctx, s); err == nil {
				reconciled = true
			}
		}
		if err == nil {
			err = c.publishPending(ctx)
		}
		if err != nil && ctx.Err() == nil {
			c.log.Warn("publishing tasks; retrying", "err", err, "in", c.cfg.PublishRetry)
			time.AfterFunc(c.cfg.PublishRetry, c.kickPublisher)
		}
	}
}

// publishPending publishes every pending, unqueued task of every running
// sweep, in ordinal order, a window at a time.
func (c *Coordinator) publishPending(ctx context.Context) error {
	sweeps, err := c.store.Sweeps(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, info := range sweeps {
		if info.State != store.SweepRunning || info.Pending == 0 {
			continue
		}
		published, before := 0, c.Stats()
		for from := 0; from >= 0; {
			queued, next, err := c.publishNext(ctx, info.Name, from)
			var werr *windowError
			if errors.As(err, &werr) {
				errs = append(errs, err)
			} else if err != nil {
				return err
			}
			published += len(queued)
			if len(queued) > 0 {
				c.log.Debug("published tasks", "sweep", info.Name, "tasks", len(queued), "total", published)
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			from = next
		}
		if published > 0 {
			after := c.Stats()
			c.log.Info("tasks queued", "sweep", info.Name, "tasks", published,
				"published", after.Published-before.Published, "already_queued", after.AlreadyQueued-before.AlreadyQueued)
		}
	}
	return errors.Join(errs...)
}

// windowError reports publications of a window that failed (to be retried).
type windowError struct{ err error }

func (e *windowError) Error() string { return e.err.Error() }
func (e *windowError) Unwrap() error { return e.err }

// publishNext publishes the next window of the sweep's pending, unqueued
// tasks from ordinal from and records them as queued; it returns them and
// the ordinal to continue from (-1 at the end).
func (c *Coordinator) publishNext(ctx context.Context, sweepName string, from int) ([]store.QueuedTask, int, error) {
	c.publishMu.Lock()
	defer c.publishMu.Unlock()
	tasks, next, err := c.store.ToPublish(ctx, sweepName, from, c.cfg.PublishWindow)
	if err != nil {
		return nil, -1, err
	}
	if err := c.markStopping(ctx, sweepName, tasks); err != nil { // stops.go
		return nil, -1, err
	}
	queued, perr := c.publishWindow(ctx, tasks)
	if err := c.store.MarkQueued(ctx, queued); err != nil {
		return nil, -1, err
	}
	if perr != nil {
		return queued, next, &windowError{perr}
	}
	return queued, next, nil
}

// publishNonce makes task message IDs unique to this process; publishCount
// to each publication in it.
var (
	publishNonce = func() string {
		var b [6]byte
		if _, err := rand.Read(b[:]); err != nil {
			panic(err) // crypto/rand never fails on supported platforms
		}
		return hex.EncodeToString(b[:])
	}()
	publishCount atomic.Uint64
)

// taskMsgID is the Nats-Msg-Id of one publication of a task:
// t.<task>.g<gen>.<process nonce>.<n>. No two publications share one, so the
// stream's dedupe window never drops a republished task as a copy of an
// earlier publication whose message is gone (purged, or deleted after it
// died); that a task is queued at most once is kept by the stream's
// one-message-per-subject limit instead (isAlreadyQueued). The task and
// generation stay in the ID for the people who read it.
func taskMsgID(t *protocol.TaskMsg) string {
	return fmt.Sprintf("t.%s.g%d.%s.%d", t.TaskID, t.Gen, publishNonce, publishCount.Add(1))
}

// publishWindow publishes tasks asynchronously and waits for every
// acknowledgement. It returns the tasks now in the stream: acknowledged, or
// refused because their subject already holds their message.
func (c *Coordinator) publishWindow(ctx context.Context, tasks []*protocol.TaskMsg) ([]store.QueuedTask, error) {
	futures := make([]jetstream.PubAckFuture, len(tasks))
	var errs []error
	now := time.Now().UTC()
	for i, t := range tasks {
		t.EnqueuedAt = now
		t.Ticket = c.tickets.Ticket(t.Sweep, t.TaskID, t.Gen) // tickets.go
		data, err := json.Marshal(t)
		if err != nil {
			return nil, fmt.Errorf("encode task %s: %w", t.TaskID, err)
		}
		f, err := c.js.PublishMsgAsync(&nats.Msg{Subject: protocol.TaskSubject(t.Sweep, t.TaskID), Data: data},
			jetstream.WithMsgID(taskMsgID(t)))
		if err != nil {
			errs = append(errs, fmt.Errorf("publish task %s: %w", t.TaskID, err))
			break
		}
		futures[i] = f
	}
	var queued []store.QueuedTask
	for i, f := range futures {
		if f == nil {
			continue
		}
		t := tasks[i]
		select {
		case ack := <-f.Ok():
			if ack.Duplicate {
				c.alreadyQueued.Add(1)
			} else {
				c.published.Add(1)
			}
			queued = append(queued, store.QueuedTask{Sweep: t.Sweep, TaskID: t.TaskID, Gen: t.Gen, Seq: ack.Sequence})
		case err := <-f.Err():
			if isAlreadyQueued(err) {
				c.alreadyQueued.Add(1)
				queued = append(queued, store.QueuedTask{Sweep: t.Sweep, TaskID: t.TaskID, Gen: t.Gen})
			} else {
				errs = append(errs, fmt.Errorf("publish task %s: %w", t.TaskID, err))
			}
		case <-ctx.Done():
			return queued, ctx.Err()
		}
	}
	if len(errs) > 3 {
		errs = append(errs[:3], fmt.Errorf("and %d more", len(errs)-3))
	}
	return queued, errors.Join(errs...)
}
