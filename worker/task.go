package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"slices"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sgsweep/sgsweep/internal/retry"
	"github.com/sgsweep/sgsweep/protocol"
	"github.com/sgsweep/sgsweep/sim"
	"github.com/sgsweep/sgsweep/sweep"
)

// maxReason bounds the termination reason sent to the server.
const maxReason = 1000

// process handles one delivered task message to the end: it is acked (after
// its result is published), handed back, or terminated.
func (w *Worker) process(runCtx context.Context, m jetstream.Msg, l lease) {
	attempt := 1
	if meta, err := m.Metadata(); err == nil {
		attempt = int(meta.NumDelivered)
	}
	log := w.log.With("subject", m.Subject(), "attempt", attempt)
	task, err := protocol.DecodeTask(m.Data())
	if err == nil {
		if s, id, ok := protocol.ParseTaskSubject(m.Subject()); !ok || s != task.Sweep || id != task.TaskID {
			task, err = nil, fmt.Errorf("task %s of sweep %s published on subject %s", task.TaskID, task.Sweep, m.Subject())
		}
	}
	if err != nil {
		w.refuse(m, task, attempt, err, log)
		return
	}
	cfg, err := task.Config() // as DecodeTask checked it
	if err != nil {
		w.refuse(m, task, attempt, err, log)
		return
	}
	log = log.With("sweep", task.Sweep, "task", task.TaskID)
	if v := task.Verify; v != nil && slices.Contains(v.Workers, w.cfg.ID) {
		w.refuseRecomputation(runCtx, m, log)
		return
	}
	if task.Verify == nil && w.hasResult(runCtx, task.TaskID) {
		// Redelivered after its result was committed (a crash between the
		// commit and the ack): nothing to compute.
		log.Info("task already has a result; acknowledging it without training")
		w.stats.skipped.Add(1)
		if err := m.DoubleAck(runCtx); err != nil {
			log.Warn("ack of a task already done", "err", err)
		}
		return
	}
	threads := w.cfg.Threads
	if threads <= 0 {
		threads = runtime.NumCPU() // sim.Options.Threads 0: GOMAXPROCS, of the child too
	}
	if est := cfg.MemoryEstimate(threads); w.cfg.MaxTaskMemory > 0 && est > w.cfg.MaxTaskMemory {
		now := time.Now()
		err := &MemoryLimitError{Estimate: est, Limit: w.cfg.MaxTaskMemory}
		log.Warn("refusing task", "err", err)
		w.metrics.memoryRefusals.Inc()
		w.report(m, task, attempt, outcome{err: err, started: now, finished: now}, log)
		return
	}

	started := time.Now()
	w.metrics.runStarted()
	res, timing, stop, err := w.train(runCtx, m, task, cfg, attempt, l.heartbeat, log)
	finished := time.Now()
	w.metrics.runEnded(finished.Sub(started), err)
	switch {
	case err == nil:
		o := outcome{result: res, timing: timing, started: started, finished: finished}
		if res.Status == protocol.StatusStopped {
			o.stop = stop
		} else if stop != nil {
			log.Warn("the run ended before the stop decision's epoch", "status", res.Status,
				"epochs", len(res.Epochs), "stop_after", stop.Epoch)
		}
		w.report(m, task, attempt, o, log)
	case runCtx.Err() != nil:
		// Shutting down: hand the task back for immediate redelivery.
		log.Info("handing back task at shutdown", "err", err)
		w.stats.requeued.Add(1)
		if err := m.Nak(); err != nil {
			log.Warn("nak", "err", err)
		}
	case deterministic(err) || attempt >= l.maxDeliver && l.maxDeliver > 0:
		if !deterministic(err) {
			err = fmt.Errorf("after %d deliveries: %w", attempt, err)
		}
		w.report(m, task, attempt, outcome{err: err, timing: timing,
			started: started, finished: finished}, log)
	default:
		delay := w.cfg.retryDelay(uint64(attempt))
		log.Warn("task failed; retrying later, maybe elsewhere", "err", err, "delay", delay)
		w.stats.retried.Add(1)
		if err := m.NakWithDelay(delay); err != nil {
			log.Warn("nak", "err", err)
		}
	}
}

// refuse handles a task message that cannot be run. A well-formed task this
// worker must not run (planned for another model version, or with an invalid
// configuration) gets a failure result: retrying elsewhere cannot help.
// Anything else (not JSON, an unknown schema, an ID that does not match the
// parameters, a subject that does not match the task) is terminated: the
// server never redelivers it and its advisory reaches the coordinator, which
// sets it aside and records the task as failed.
func (w *Worker) refuse(m jetstream.Msg, task *protocol.TaskMsg, attempt int, err error, log *slog.Logger) {
	if task != nil && (errors.Is(err, protocol.ErrModelVersion) || errors.Is(err, sweep.ErrInvalidParams)) {
		log.Warn("refusing task", "err", err)
		now := time.Now()
		w.report(m, task, attempt, outcome{err: fmt.Errorf("task refused: %w", err),
			modelVersion: task.ModelVersion, started: now, finished: now}, log)
		return
	}
	reason := fmt.Sprintf("%s: %v", m.Subject(), err)
	if len(reason) > maxReason {
		reason = reason[:maxReason]
	}
	log.Warn("terminating unusable task message", "err", err)
	w.stats.terminated.Add(1)
	if err := m.TermWithReason(reason); err != nil {
		log.Warn("term", "err", err)
	}
}

// refuseRecomputation hands back a recomputation of a task this worker
// computed: verification needs another worker's result. The message comes
// back after RetryDelay (it ends at the delivery limit if no other worker
// takes it); meanwhile the slot stays idle for a random half to one and a
// half delays, so that refusing workers fall out of step and the
// redelivery is likely to find another worker's request.
func (w *Worker) refuseRecomputation(ctx context.Context, m jetstream.Msg, log *slog.Logger) {
	delay := w.cfg.RetryDelay
	log.Info("refusing to recompute a task this worker computed", "delay", delay)
	w.stats.requeued.Add(1)
	if err := m.NakWithDelay(delay); err != nil {
		log.Warn("nak", "err", err)
	}
	retry.Sleep(ctx, delay/2+rand.N(delay+1))
}

// train runs the task with heartbeats and per-epoch progress messages. A
// task with stopping rules sends them as requests (stopListener) and may be
// stopped: stop is the decision heard, if any. A panic in the runner is
// returned as a *PanicError.
func (w *Worker) train(ctx context.Context, m jetstream.Msg, task *protocol.TaskMsg, cfg sim.Config,
	attempt int, heartbeat time.Duration, log *slog.Logger) (res *sim.Result, timing *sim.Timing,
	stop *protocol.StopDecision, err error) {
	hbCtx, stopHeartbeat := context.WithCancel(ctx)
	defer stopHeartbeat()
	go w.heartbeat(hbCtx, m, heartbeat)

	progress := protocol.ProgressSubject(task.Sweep, task.TaskID)
	var listener *stopListener
	if task.Stopping && w.cfg.ProgressReplyTimeout > 0 {
		listener = &stopListener{w: w, ctx: ctx, subject: progress, log: log}
	}
	opts := sim.Options{
		Threads: w.cfg.Threads,
		DataDir: w.cfg.DataDir,
		OnEpoch: func(e sim.Epoch, _ float64) {
			w.metrics.epochs.Inc()
			data, err := json.Marshal(&protocol.ProgressMsg{Schema: protocol.SchemaProgress, Sweep: task.Sweep,
				TaskID: task.TaskID, Worker: w.cfg.ID, Attempt: attempt, Epochs: cfg.Train.Epochs, Epoch: e})
			switch {
			case err != nil: // a NaN the run has not marked diverged: nothing to tell
			case listener != nil && e.Epoch < cfg.Train.Epochs:
				listener.ask(data, e.Epoch)
			default:
				w.nc.Publish(progress, data) // advisory: a lost one loses nothing
			}
		},
	}
	if listener != nil {
		opts.Stop = listener.stop
	}
	res, timing, err = runRecovering(ctx, w.run, cfg, opts, nil)
	if err == nil && res == nil {
		err = errors.New("runner returned neither a result nor an error")
	}
	if listener != nil {
		stop = listener.decision
	}
	return res, timing, stop, err
}

// heartbeat tells the server the task is in progress every interval, which
// resets its redelivery timer.
func (w *Worker) heartbeat(ctx context.Context, m jetstream.Msg, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := m.InProgress(); err != nil {
				w.log.Warn("heartbeat", "subject", m.Subject(), "err", err)
			}
		}
	}
}

// PanicError is a panic recovered from the runner: a failure of the task, not
// of the worker.
type PanicError struct {
	Value string
	Stack string
}

func (e *PanicError) Error() string { return "simulator panic: " + e.Value }

// deterministic reports whether err would recur on any worker: an invalid
// configuration, a panic of the simulator, a task above the memory limit,
// or such an error reported by a task process.
func deterministic(err error) bool {
	var fe *sim.FieldError
	var pe *PanicError
	var me *MemoryLimitError
	var ce *ChildError
	return errors.As(err, &fe) || errors.As(err, &pe) || errors.As(err, &me) || errors.As(err, &ce) && ce.Final
}

// outcome is a finished run: a result, or the error it failed with.
type outcome struct {
	result            *sim.Result
	timing            *sim.Timing
	err               error
	started, finished time.Time
	// modelVersion overrides the provenance's model version: a refused
	// task's failure carries the version it was planned for, under which
	// its ID is its parameters' hash.
	modelVersion string
	// stop is the decision that ended a stopped run.
	stop *protocol.StopDecision
}

// report publishes the task's result (waiting for the server's
// acknowledgement) and only then acks the task. If the result cannot be
// published, the task is handed back with a delay. The result echoes the
// task's ticket, without which the coordinator does not accept it.
func (w *Worker) report(m jetstream.Msg, task *protocol.TaskMsg, attempt int, o outcome, log *slog.Logger) {
	r := &protocol.ResultMsg{
		Schema: protocol.SchemaResult,
		Sweep:  task.Sweep,
		TaskID: task.TaskID,
		Params: task.Params,
		Ticket: task.Ticket,
		Provenance: protocol.Provenance{
			ModelVersion: sim.ModelVersion,
			Build:        w.build,
			Host:         w.cfg.Host,
			Worker:       w.cfg.ID,
			Attempt:      attempt,
			StartedAt:    o.started.UTC(),
			FinishedAt:   o.finished.UTC(),
		},
	}
	if o.timing != nil {
		r.Provenance.Timing = *o.timing
	}
	if o.modelVersion != "" {
		r.Provenance.ModelVersion = o.modelVersion
	}
	var err error
	if o.err != nil {
		r.Status, r.Error = protocol.StatusFailed, o.err.Error()
		r.Digest, err = sweep.Digest(r.Error)
	} else {
		r.Status, r.Result, r.Stop = o.result.Status, o.result, o.stop
		r.Digest, err = sweep.Digest(o.result)
	}
	switch {
	case err != nil:
		// Not JSON-encodable (NaN in a result the simulator did not mark
		// diverged): deterministic, so report it as the failure.
		err = fmt.Errorf("unencodable result: %w", err)
	case r.Status == protocol.StatusStopped && (r.Stop == nil || len(r.Result.Epochs) < r.Stop.Epoch):
		err = fmt.Errorf("runner stopped the run after %d epochs, without a stop decision for one of them",
			len(r.Result.Epochs))
	case r.Status != protocol.StatusOK && r.Status != protocol.StatusDiverged &&
		r.Status != protocol.StatusStopped && r.Status != protocol.StatusFailed:
		err = fmt.Errorf("runner returned status %q", r.Status)
	}
	if err != nil {
		// Deterministic: the same task gives the same result again.
		r.Status, r.Result, r.Stop, r.Error = protocol.StatusFailed, nil, nil, err.Error()
		r.Digest, _ = sweep.Digest(r.Error)
	}
	data, err := json.Marshal(r)
	if err != nil {
		log.Warn("encode result", "err", err)
		w.stats.retried.Add(1)
		m.NakWithDelay(w.cfg.retryDelay(uint64(attempt)))
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), w.cfg.PublishTimeout)
	defer cancel()
	dup, err := w.publish(ctx, protocol.ResultSubject(task.Sweep, task.TaskID), resultMsgID(m, task.TaskID, r.Digest), data)
	if permanent(err) && r.Status != protocol.StatusFailed {
		log.Warn("result cannot be published; reporting the task failed", "err", err)
		w.report(m, task, attempt, outcome{err: fmt.Errorf("publish result: %w", err),
			timing: o.timing, started: o.started, finished: o.finished}, log)
		return
	}
	if err != nil {
		log.Warn("publishing result; handing the task back", "err", err)
		w.stats.retried.Add(1)
		m.NakWithDelay(w.cfg.retryDelay(uint64(attempt)))
		return
	}
	switch {
	case dup:
		w.stats.duplicates.Add(1)
	case r.Status == protocol.StatusFailed:
		w.stats.failed.Add(1)
	case r.Status == protocol.StatusStopped:
		w.stats.stopped.Add(1)
		w.stats.completed.Add(1)
	default:
		w.stats.completed.Add(1)
	}
	if err := m.DoubleAck(ctx); err != nil {
		// The result is stored; a redelivered task is computed again and
		// its duplicate result absorbed by the coordinator.
		log.Warn("ack after publishing the result", "err", err)
	}
}

// resultMsgID is the Nats-Msg-Id of a task's result:
// r.<task>.<digest[:16]>.s<task message's stream sequence>.d<delivery>.
// The retries of one publication share it, so the stream drops the copies
// of a retried publish; another delivery of the task (a redelivery, or a
// republication after a stream was purged) gets a new one, so that its
// result is never dropped as a duplicate of a result that the stream, but
// not the store, once held. The coordinator absorbs a result the store
// already has (counted as a duplicate).
func resultMsgID(m jetstream.Msg, taskID, digest string) string {
	id := "r." + taskID + "." + digest[:16]
	if md, err := m.Metadata(); err == nil {
		id += fmt.Sprintf(".s%d.d%d", md.Sequence.Stream, md.NumDelivered)
	}
	return id
}

// publish publishes a message and waits for the server's acknowledgement,
// retrying with the same message ID (the stream drops a duplicate) until ctx
// expires. dup reports that the stream already had the message.
func (w *Worker) publish(ctx context.Context, subject, msgID string, data []byte) (dup bool, err error) {
	for attempt := 0; ; attempt++ {
		ack, err := w.js.Publish(ctx, subject, data, jetstream.WithMsgID(msgID))
		if err == nil {
			// A duplicate after a retry is our own first attempt.
			return ack.Duplicate && attempt == 0, nil
		}
		if permanent(err) {
			return false, err
		}
		if serr := retry.Sleep(ctx, 250*time.Millisecond); serr != nil {
			return false, fmt.Errorf("%w (last: %w)", serr, err)
		}
	}
}

// permanent reports whether a publication can never succeed: the message is
// larger than the server or the stream accepts.
func permanent(err error) bool {
	return errors.Is(err, nats.ErrMaxPayload) || errors.Is(err, jetstream.ErrStreamMessageExceedsMaximum)
}
