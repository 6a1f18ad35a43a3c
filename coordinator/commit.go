package coordinator

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sgsweep/sgsweep/internal/retry"
	"github.com/sgsweep/sgsweep/protocol"
	"github.com/sgsweep/sgsweep/results/store"
	"github.com/sgsweep/sgsweep/sim"
)

// resultLoop commits result batches until ctx is cancelled.
func (c *Coordinator) resultLoop(ctx context.Context) error {
	s, err := c.current()
	if err != nil {
		return err
	}
	var failures retry.Streak
	for ctx.Err() == nil {
		batch, err := fetchBatch(ctx, s.ResultConsumer, c.cfg.ResultBatch)
		if err != nil {
			failures.Fail(ctx, c.log, "fetching results", err)
			continue
		}
		failures.Reset()
		if len(batch) > 0 {
			c.commit(ctx, batch)
		}
	}
	return nil
}

// drainResults commits the results waiting in the stream, until a fetch
// comes back empty.
func (c *Coordinator) drainResults(ctx context.Context) error {
	s, err := c.current()
	if err != nil {
		return err
	}
	n := 0
	for ctx.Err() == nil {
		more, err := s.ResultConsumer.FetchNoWait(c.cfg.ResultBatch)
		if err != nil {
			return fmt.Errorf("drain results: %w", err)
		}
		var batch []jetstream.Msg
		for m := range more.Messages() {
			batch = append(batch, m)
		}
		if err := more.Error(); err != nil && len(batch) == 0 {
			return fmt.Errorf("drain results: %w", err)
		}
		if len(batch) == 0 {
			break
		}
		n += len(batch)
		c.commit(ctx, batch)
	}
	if n > 0 {
		c.log.Info("committed results waiting from before", "results", n)
	}
	return nil
}

// fetchBatch waits for one message, then takes whatever else is available at
// once, up to max messages in all. An empty batch with a nil error means
// nothing arrived (the pull request expired, or ctx is done).
//
// The pull request carries no client-side deadline: the server expires it
// (after 30 s, with idle heartbeats every 5 s) and says so. A client that
// gave up on its own while the server still held the request could miss a
// message delivered in between, which would then wait out its ack wait.
func fetchBatch(ctx context.Context, cons jetstream.Consumer, max int) ([]jetstream.Msg, error) {
	first, err := cons.Next(jetstream.FetchContext(ctx))
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return nil, nil
	case errors.Is(err, nats.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return nil, nil
	default:
		return nil, err
	}
	batch := []jetstream.Msg{first}
	if max > 1 {
		more, err := cons.FetchNoWait(max - 1)
		if err == nil {
			for m := range more.Messages() {
				batch = append(batch, m)
			}
		}
	}
	return batch, nil
}

// commit validates a batch of result messages, writes it in one store
// transaction and only then acks it. Unusable messages are set aside in the
// store and terminated. If the transaction fails, the batch is handed back
// for redelivery.
func (c *Coordinator) commit(ctx context.Context, batch []jetstream.Msg) {
	var in []store.Incoming
	var rejected []store.Rejection
	reasons := make([]string, len(batch))
	for i, m := range batch {
		r, err := decodeResult(m)
		gen := 0
		if err == nil { // authorize.go: orphans and implausible results are set aside
			if gen, err = c.authorize(ctx, r); err != nil && !errors.Is(err, errUnauthorized) {
				c.handBack(ctx, batch, "authorizing results", err)
				return
			}
		}
		if err != nil {
			reasons[i] = err.Error()
			rejected = append(rejected, c.rejection(m, r, err))
			continue
		}
		in = append(in, store.Incoming{Result: r, Raw: m.Data(), Gen: gen})
	}
	start := time.Now()
	rep, err := c.store.Commit(context.WithoutCancel(ctx), in, nil, rejected)
	if err != nil {
		c.handBack(ctx, batch, "committing results", err)
		return
	}
	c.emitCommit(in, rep.Charged, rep, time.Since(start))
	c.stopsCommitted(in, rep) // stops.go
	for i, m := range batch {
		if reasons[i] != "" {
			c.log.Warn("result message set aside", "subject", m.Subject(), "reason", reasons[i])
			m.TermWithReason(reasons[i])
		} else {
			m.Ack()
		}
	}
	c.verifyCommitted(ctx, in, rep) // verify.go
	c.rate.add(time.Now(), rep.Stored)
	c.committed.Add(int64(len(batch)))
	c.log.Debug("committed results", "messages", len(batch), "stored", rep.Stored,
		"duplicates", rep.Duplicates, "conflicts", rep.Conflicts, "rejected", rep.Rejected)
	if rep.Conflicts > 0 {
		c.log.Warn("differing results for a task that already has one (kept aside)", "conflicts", rep.Conflicts)
	}
	if n := rep.Rejected - len(rejected); n > 0 {
		c.log.Warn("stopped results without their task's committed stop decision set aside", "results", n)
	}
	for _, f := range rep.Charged {
		c.log.Warn("task failed: its results were rejected", "task", f.TaskID, "err", f.Error)
	}
	for _, name := range rep.Finished {
		c.log.Info("sweep finished", "sweep", name)
	}
}

// decodeResult decodes and checks one result message: its schema and digest
// (protocol.DecodeResult), its subject, that it echoes its parameters, and that
// it is of this coordinator's model version, under which DecodeResult has
// checked that the task ID is the parameters' hash.
func decodeResult(m jetstream.Msg) (*protocol.ResultMsg, error) {
	r, err := protocol.DecodeResult(m.Data())
	if err != nil {
		return nil, err
	}
	s, id, ok := protocol.ParseResultSubject(m.Subject())
	if !ok || s != r.Sweep || id != r.TaskID {
		return nil, fmt.Errorf("result of task %s of sweep %s on subject %s", r.TaskID, r.Sweep, m.Subject())
	}
	if len(r.Params) == 0 || string(r.Params) == "null" {
		return nil, fmt.Errorf("result of task %s without its params", r.TaskID)
	}
	if r.Provenance.ModelVersion != sim.ModelVersion {
		return nil, fmt.Errorf("result of model %q, this coordinator plans for %q", r.Provenance.ModelVersion, sim.ModelVersion)
	}
	return r, nil
}

// streamSeq is the message's stream sequence, 0 if unknown.
func streamSeq(m jetstream.Msg) uint64 {
	meta, err := m.Metadata()
	if err != nil {
		return 0
	}
	return meta.Sequence.Stream
}
