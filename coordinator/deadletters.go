package coordinator

import (
	"context"
	"encoding/json"
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
// again: recordDead); a terminated task message is set aside and its task,
// if planned, becomes failed. The advisory is acked after the commit; other
// advisories are acked at once. An advisory that never arrives is made up
// for by reconciliation (reapDead, and the republication of lost tasks).
func (c *Coordinator) deadLetter(ctx context.Context, s *Streams, m jetstream.Msg) error {
	var adv advisory
	if err := json.Unmarshal(m.Data(), &adv); err != nil {
		c.log.Warn("undecodable advisory dropped", "subject", m.Subject(), "err", err)
		return m.Ack()
	}
	switch m.Subject() {
	case protocol.AdvisoryMaxDeliveries:
		if _, err := c.recordDead(ctx, s, adv.StreamSeq, adv.Deliveries); err != nil {
			return err
		}
	case protocol.AdvisoryTerminated:
		subject, why, _ := strings.Cut(adv.Reason, ": ")
		rejected := []store.Rejection{{Stream: protocol.StreamTasks, Subject: subject,
			Seq: adv.StreamSeq, Reason: "terminated by a worker: " + why}}
		var failures []store.Failure
		if _, id, ok := protocol.ParseTaskSubject(subject); ok {
			failures = append(failures, store.Failure{TaskID: id, Attempts: adv.Deliveries,
				Error: "task message refused by a worker: " + why})
		}
		c.log.Warn("task message terminated by a worker", "subject", subject, "reason", why)
		if err := c.commitFailures(ctx, failures, rejected); err != nil {
			return err
		}
	}
	return m.Ack()
}
