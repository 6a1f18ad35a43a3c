package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sgsweep/sgsweep/internal/retry"
	"github.com/sgsweep/sgsweep/protocol"
	"github.com/sgsweep/sgsweep/sim"
)

// Runner trains one configuration; it has sim.Train's signature, and the
// product uses sim.Train. It must return promptly, with ctx's error, once
// ctx is cancelled.
type Runner func(ctx context.Context, cfg sim.Config, opts sim.Options) (*sim.Result, *sim.Timing, error)

// Worker pulls tasks from the shared worker consumer, one per free slot,
// trains them with its Runner and publishes their results. It keeps no state
// between tasks: any number of workers can run anywhere.
type Worker struct {
	nc    *nats.Conn
	js    jetstream.JetStream
	run   Runner
	cfg   Config
	log   *slog.Logger
	build protocol.Build
	stats stats
	// metrics are the /metrics series (metrics.go); they read stats.
	metrics *metrics
}

// Stats counts what a worker did with the tasks it received.
type Stats struct {
	// Completed counts results published (ok, diverged or stopped);
	// Failed failure results published (deterministic errors, or the last
	// delivery).
	Completed, Failed int64
	// Stopped counts the completed results whose run the coordinator's
	// stop decision ended early.
	Stopped int64
	// Duplicates counts results (of either kind) the result stream already
	// held: the task had been computed before (a redelivery).
	Duplicates int64
	// Retried counts tasks handed back with a delay after an error that
	// may be environmental; Requeued tasks handed back at shutdown;
	// Terminated corrupt or unsupported task messages.
	Retried, Requeued, Terminated int64
	// Skipped counts tasks acked without training because the coordinator
	// said they already had a result.
	Skipped int64
}

type stats struct {
	completed, failed, stopped, duplicates, retried, requeued, terminated, skipped atomic.Int64
}

// New returns a worker that talks over nc and trains with run.
func New(nc *nats.Conn, run Runner, cfg Config) (*Worker, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("worker config: %w", err)
	}
	if run == nil {
		return nil, errors.New("worker: nil runner")
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("worker: %w", err)
	}
	w := &Worker{nc: nc, js: js, run: run, cfg: cfg, log: cfg.logger().With("worker", cfg.ID),
		build: protocol.CurrentBuild()}
	w.metrics = newMetrics(w)
	return w, nil
}

// Stats returns the worker's counters so far.
func (w *Worker) Stats() Stats {
	return Stats{
		Completed:  w.stats.completed.Load(),
		Failed:     w.stats.failed.Load(),
		Stopped:    w.stats.stopped.Load(),
		Duplicates: w.stats.duplicates.Load(),
		Retried:    w.stats.retried.Load(),
		Requeued:   w.stats.requeued.Load(),
		Terminated: w.stats.terminated.Load(),
		Skipped:    w.stats.skipped.Load(),
	}
}

// lease holds what the consumer's configuration says about deliveries.
type lease struct {
	maxDeliver int
	heartbeat  time.Duration
}

// Run works until ctx is cancelled, then stops taking tasks, lets running
// ones finish within DrainTimeout, cancels and hands back the rest (they are
// redelivered at once to another worker), flushes, and returns nil. It waits
// for the coordinator to create the worker consumer if it does not exist yet.
func (w *Worker) Run(ctx context.Context) error {
	cons, err := w.consumer(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	info := cons.CachedInfo()
	l := lease{maxDeliver: info.Config.MaxDeliver, heartbeat: w.cfg.Heartbeat}
	if l.heartbeat == 0 {
		l.heartbeat = max(info.Config.AckWait/3, 100*time.Millisecond)
	}
	w.log.Info("worker started", "slots", w.cfg.Concurrency, "threads", w.cfg.Threads,
		"heartbeat", l.heartbeat, "max_deliver", l.maxDeliver)

	// Runs outlive ctx by at most DrainTimeout.
	runCtx, cancelRuns := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelRuns()
	slotsDone := make(chan struct{})
	go func() {
		select {
		case <-slotsDone:
			return
		case <-ctx.Done():
		}
		timer := time.NewTimer(w.cfg.DrainTimeout)
		defer timer.Stop()
		select {
		case <-slotsDone:
		case <-timer.C:
			w.log.Warn("drain timeout: cancelling running tasks", "timeout", w.cfg.DrainTimeout)
			cancelRuns()
		}
	}()

	var wg sync.WaitGroup
	for range w.cfg.Concurrency {
		wg.Go(func() { w.slot(ctx, runCtx, cons, l) })
	}
	wg.Wait()
	close(slotsDone)
	if err := w.nc.Flush(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
		// Acks or naks may be lost: those tasks come back after the ack wait.
		w.log.Warn("flush at shutdown", "err", err)
	}
	w.log.Info("worker stopped", "stats", w.Stats())
	return nil
}

// consumerBackoff paces the look-ups of consumer: 250 ms doubling up to 5 s.
var consumerBackoff = retry.Backoff{Base: 250 * time.Millisecond, Max: 5 * time.Second}

// consumer looks up the shared worker consumer, waiting for a coordinator to
// create it.
func (w *Worker) consumer(ctx context.Context) (jetstream.Consumer, error) {
	for attempt := 1; ; attempt++ {
		lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		cons, err := w.js.Consumer(lctx, protocol.StreamTasks, protocol.ConsumerWorkers)
		cancel()
		if err == nil {
			return cons, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if attempt == 1 {
			w.log.Info("waiting for a coordinator to create the task stream", "err", err)
		}
		if err := consumerBackoff.Wait(ctx, attempt); err != nil {
			return nil, err
		}
	}
}

// slot takes one task at a time until ctx is cancelled.
func (w *Worker) slot(ctx, runCtx context.Context, cons jetstream.Consumer, l lease) {
	var failures retry.Streak
	for ctx.Err() == nil {
		// No client-side deadline: the server expires the pull request
		// (30 s, idle heartbeats every 5 s) and says so, so a task is never
		// delivered to a request the worker has given up on. Only ctx
		// (shutdown) abandons one.
		msg, err := cons.Next(jetstream.FetchContext(ctx))
		switch {
		case err == nil:
			failures.Reset()
			w.process(runCtx, msg, l)
		case ctx.Err() != nil:
			return
		case errors.Is(err, nats.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
			failures.Reset()
		default:
			// Disconnected, server restarting, consumer being recreated:
			// keep pulling with a growing pause.
			failures.Fail(ctx, w.log, "fetching a task", err)
		}
	}
}
