package coordinator

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sgsweep/sgsweep/protocol"
	"github.com/sgsweep/sgsweep/results/store"
)

// Reconciliation repairs the store's record of queued tasks from what the
// streams hold, so that no pending task is left with nothing queued,
// running or waiting to be committed: after a stream was purged, after a
// dead task's advisory was lost (the dead-letter stream purged, or never
// stored), after a crash between a publication and its record. It runs
// once before the first publish pass and then every Config.ReconcileEvery.
//
// It relies on three facts. A task message stays in the work-queue stream
// while it waits, while a worker runs it and while it waits for a
// redelivery; a worker acks it only after its result is in the result
// stream; the coordinator removes a result from the result stream only
// after the store has committed it. So a task that is pending in the store,
// whose subject is in neither stream, was lost. The subjects are listed
// with the publisher stopped (publishMu) and before the store is read: a
// task published or settled in between cannot be mistaken for a lost one.

// reconcileLoop reconciles every Config.ReconcileEvery until ctx is done,
// and kicks the publisher when tasks were lost.
func (c *Coordinator) reconcileLoop(ctx context.Context) error {
	s, err := c.current()
	if err != nil {
		return err
	}
	every := c.cfg.ReconcileEvery
	if every <= 0 {
		every = DefaultConfig().ReconcileEvery
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		lost, err := c.reconcile(ctx, s)
		if err != nil && ctx.Err() == nil {
			c.log.Warn("reconciling queued tasks with the streams", "err", err)
		}
		if lost > 0 {
			c.kickPublisher()
		}
	}
}

// reconcile records dead task messages as failed (reapDead), then makes the
// store's queued record match the task stream: records of tasks whose
// message is gone and whose result is not in the result stream are dropped
// (the tasks are published again; it returns how many), and messages without
// a record (published just before a crash) are recorded, so that they are
// not published twice. When the counts show nothing missing — no more
// records than task messages plus waiting results, no more task messages
// than records — the record is trusted without listing the streams'
// subjects.
func (c *Coordinator) reconcile(ctx context.Context, s *Streams) (lost int, err error) {
	c.publishMu.Lock()
	defer c.publishMu.Unlock()
	if err := c.reapDead(ctx, s); err != nil {
		return 0, err
	}
	tinfo, err := s.Tasks.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("task stream info: %w", err)
	}
	rinfo, err := s.Results.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("result stream info: %w", err)
	}
	totals, err := c.store.Totals(ctx)
	if err != nil {
		return 0, err
	}
	inTasks, waiting, recorded := tinfo.State.Msgs, rinfo.State.Msgs, uint64(totals.Queued)
	if inTasks <= recorded && recorded-inTasks <= waiting {
		return 0, nil
	}
	queued, err := streamSubjects(ctx, s.Tasks, protocol.TaskSubjects, protocol.ParseTaskSubject)
	if err != nil {
		return 0, err
	}
	results, err := streamSubjects(ctx, s.Results, protocol.ResultSubjects, protocol.ParseResultSubject)
	if err != nil {
		return 0, err
	}
	var gone []string
	known := make(map[string]bool, len(queued))
	err = c.store.QueuedTasks(ctx, func(q store.QueuedTask) error {
		switch {
		case queued[q.TaskID] == q.Sweep:
			known[q.TaskID] = true
		case results[q.TaskID] == "":
			gone = append(gone, q.TaskID)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if err := c.store.Unqueue(ctx, gone); err != nil {
		return 0, err
	}
	var found []store.QueuedTask
	for id, name := range queued {
		if known[id] {
			continue
		}
		q := store.QueuedTask{Sweep: name, TaskID: id}
		if m, err := s.Tasks.GetLastMsgForSubject(ctx, protocol.TaskSubject(name, id)); err == nil {
			q.Seq = m.Sequence
		}
		found = append(found, q)
	}
	if err := c.store.MarkQueued(ctx, found); err != nil {
		return 0, err
	}
	c.log.Info("reconciled queued tasks with the streams", "in_stream", len(queued), "recorded", recorded,
		"results_waiting", len(results), "lost", len(gone), "found", len(found))
	return len(gone), nil
}

// streamSubjects lists the task IDs of a stream's subjects, with the sweep
// of each.
func streamSubjects(ctx context.Context, st jetstream.Stream, filter string,
	parse func(string) (string, string, bool)) (map[string]string, error) {
	info, err := st.Info(ctx, jetstream.WithSubjectFilter(filter))
	if err != nil {
		return nil, fmt.Errorf("subjects of %s: %w", filter, err)
	}
	out := make(map[string]string, len(info.State.Subjects))
	for subject := range info.State.Subjects {
		if name, id, ok := parse(subject); ok {
			out[id] = name
		}
	}
	return out, nil
}

// reapDead records task messages that reached the delivery limit as
// failed, as their MAX_DELIVERIES advisory would have, when the advisory
// never reached the coordinator. Such a message stays in the work-queue
// stream (only an ack removes it) but is neither waiting for its first
// delivery nor pending an ack. The consumer does not list its pending
// messages, so a message is known dead when it is still in the stream and
// either the consumer's ack floor has moved past it, or it was delivered
// and nothing at all is pending an ack. The scan of the queued record runs
// only when the stream holds more messages than the consumer has left to
// deliver or waiting for an ack; a dead message among others in flight is
// found once they have settled.
func (c *Coordinator) reapDead(ctx context.Context, s *Streams) error {
	cinfo, err := s.Workers.Info(ctx)
	if err != nil {
		return fmt.Errorf("worker consumer info: %w", err)
	}
	tinfo, err := s.Tasks.Info(ctx)
	if err != nil {
		return fmt.Errorf("task stream info: %w", err)
	}
	if tinfo.State.Msgs <= cinfo.NumPending+uint64(cinfo.NumAckPending) {
		return nil
	}
	floor := cinfo.AckFloor.Stream
	if cinfo.NumAckPending == 0 {
		floor = cinfo.Delivered.Stream
	}
	var suspects []uint64
	err = c.store.QueuedTasks(ctx, func(q store.QueuedTask) error {
		if q.Seq != 0 && q.Seq <= floor {
			suspects = append(suspects, q.Seq)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, seq := range suspects {
		if _, err := c.recordDead(ctx, s, seq, c.cfg.MaxDeliver); err != nil {
			return err
		}
	}
	return nil
}

// recordDead records the task message at seq of the task stream, which
// reached the delivery limit after deliveries, as a failed task (a foreign
// message is set aside), then deletes it so that a retry can publish the
// task again. A message that is gone is not an error: found is false.
func (c *Coordinator) recordDead(ctx context.Context, s *Streams, seq uint64, deliveries int) (found bool, err error) {
	raw, err := s.Tasks.GetMsg(ctx, seq)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return false, nil // handled before (a restart), or purged
	}
	if err != nil {
		return false, fmt.Errorf("task message %d: %w", seq, err)
	}
	var failures []store.Failure
	var rejected []store.Rejection
	if _, id, ok := protocol.ParseTaskSubject(raw.Subject); !ok {
		rejected = append(rejected, store.Rejection{Stream: protocol.StreamTasks, Subject: raw.Subject,
			Seq: seq, Reason: "foreign message hit the delivery limit", Data: raw.Data})
	} else {
		failures = append(failures, store.Failure{TaskID: id, Attempts: deliveries,
			Error: fmt.Sprintf("no result after %d deliveries: every worker that took the task stopped "+
				"without reporting (crashed, killed, out of memory?) or kept failing", deliveries)})
	}
	c.log.Warn("task hit the delivery limit", "subject", raw.Subject, "deliveries", deliveries)
	if err := c.commitFailures(ctx, failures, rejected); err != nil {
		return true, err
	}
	if err := s.Tasks.DeleteMsg(ctx, seq); err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
		return true, fmt.Errorf("delete dead task message %d: %w", seq, err)
	}
	return true, nil
}

// commitFailures commits failed tasks and set-aside messages (no results),
// tells the event subscribers (events.go), and logs and meters what the
// commit settled.
func (c *Coordinator) commitFailures(ctx context.Context, failures []store.Failure, rejected []store.Rejection) error {
	start := time.Now()
	rep, err := c.store.Commit(context.WithoutCancel(ctx), nil, failures, rejected)
	c.emitCommit(nil, failures, rep, time.Since(start)) // no-op on error
	if err != nil {
		return err
	}
	c.rate.add(time.Now(), rep.Stored)
	for _, name := range rep.Finished {
		c.log.Info("sweep finished", "sweep", name)
	}
	return nil
}
