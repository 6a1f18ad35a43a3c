package coordinator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sgsweep/sgsweep/internal/retry"
	"github.com/sgsweep/sgsweep/protocol"
	"github.com/sgsweep/sgsweep/results/store"
)

// advisory holds the fields of the server's max-deliveries and terminated
// advisories that the coordinator uses.
type advisory struct {
	Type       string `json:"type"`
	StreamSeq  uint64 `json:"stream_seq"`
	Deliveries int    `json:"deliveries"`
	// Reason is the worker's termination reason, "<subject>: <why>".
	Reason string `json:"reason"`
}

// deadLetterLoop records dead tasks until ctx is cancelled.
func (c *Coordinator) deadLetterLoop(ctx context.Context) error {
	s, err := c.current()
	if err != nil {
		return err
	}
	var failures retry.Streak
	for ctx.Err() == nil {
		batch, err := fetchBatch(ctx, s.DeadLetterConsumer, 1)
		if err != nil {
			failures.Fail(ctx, c.log, "fetching dead letters", err)
			continue
		}
		failures.Reset()
		for _, m := range batch {
			if err := c.deadLetter(ctx, s, m); err != nil {
				c.log.Warn("recording a dead task; retrying", "err", err)
				m.NakWithDelay(time.Second)
			}
		}
	}
	return nil
}

// deadLetter records one advisory: a task that hit the delivery limit
// becomes failed (and its message is deleted, so that a retry can publish it
// again); a terminated task message is set aside and its task, if planned,
// becomes failed. The advisory is acked after the commit.
func (c *Coordinator) deadLetter(ctx context.Context, s *Streams, m jetstream.Msg) error {
	var adv advisory
	if err := json.Unmarshal(m.Data(), &adv); err != nil {
		c.log.Warn("undecodable advisory dropped", "subject", m.Subject(), "err", err)
		return m.Ack()
	}
	var failures []store.Failure
	var rejected []store.Rejection
	deleteSeq := uint64(0)
	switch m.Subject() {
	case protocol.AdvisoryMaxDeliveries:
		raw, err := s.Tasks.GetMsg(ctx, adv.StreamSeq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return m.Ack() // handled before a restart, or purged
		}
		if err != nil {
			return fmt.Errorf("task message %d: %w", adv.StreamSeq, err)
		}
		_, id, ok := protocol.ParseTaskSubject(raw.Subject)
		if !ok {
			rejected = append(rejected, store.Rejection{Stream: protocol.StreamTasks, Subject: raw.Subject,
				Seq: adv.StreamSeq, Reason: "foreign message hit the delivery limit", Data: raw.Data})
		} else {
			failures = append(failures, store.Failure{TaskID: id, Attempts: adv.Deliveries,
				Error: fmt.Sprintf("no result after %d deliveries: every worker that took the task stopped "+
					"without reporting (crashed, killed, out of memory?) or kept failing", adv.Deliveries)})
		}
		deleteSeq = adv.StreamSeq
		c.log.Warn("task hit the delivery limit", "subject", raw.Subject, "deliveries", adv.Deliveries)
	case protocol.AdvisoryTerminated:
		subject, why, _ := strings.Cut(adv.Reason, ": ")
		rejected = append(rejected, store.Rejection{Stream: protocol.StreamTasks, Subject: subject,
			Seq: adv.StreamSeq, Reason: "terminated by a worker: " + why})
		if _, id, ok := protocol.ParseTaskSubject(subject); ok {
			failures = append(failures, store.Failure{TaskID: id, Attempts: adv.Deliveries,
				Error: "task message refused by a worker: " + why})
		}
		c.log.Warn("task message terminated by a worker", "subject", subject, "reason", why)
	default:
		return m.Ack()
	}
	start := time.Now()
	rep, err := c.store.Commit(context.WithoutCancel(ctx), nil, failures, rejected)
	c.emitCommit(nil, failures, rep, time.Since(start)) // events.go; no-op on error
	if err != nil {
		return err
	}
	if deleteSeq != 0 {
		err := s.Tasks.DeleteMsg(ctx, deleteSeq)
		if err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
			return fmt.Errorf("delete dead task message %d: %w", deleteSeq, err)
		}
	}
	c.rate.add(time.Now(), rep.Stored)
	for _, name := range rep.Finished {
		c.log.Info("sweep finished", "sweep", name)
	}
	return m.Ack()
}
