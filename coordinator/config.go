package coordinator

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/sgsweep/sgsweep/sweep"
)

// Config holds the coordinator's timings and sizes. The worker-side values
// (AckWait, BackOff, MaxDeliver, MaxAckPending, MaxWaiting) configure the
// shared worker consumer on the server, so they apply to every worker.
// Start from DefaultConfig; tests shorten the timings.
type Config struct {
	// AckWait is how long the server waits for a worker's ack or heartbeat
	// before it redelivers a task: the crash-detection latency. It equals
	// BackOff[0] when BackOff is set.
	AckWait time.Duration
	// BackOff lists the ack deadlines of successive deliveries (the last
	// one repeats); its length is at most MaxDeliver. Empty means AckWait
	// for every delivery.
	BackOff []time.Duration
	// MaxDeliver bounds the deliveries of one task. A task whose workers
	// never report (crash, OOM, kill) is recorded failed after it.
	MaxDeliver int
	// MaxAckPending caps tasks delivered and not yet acked over all
	// workers; MaxWaiting caps idle worker slots waiting for a task. Both
	// must be at least the total number of worker slots.
	MaxAckPending int
	MaxWaiting    int

	// ResultAckWait is the ack deadline of result messages on the
	// coordinator's consumer (results are never dead-lettered).
	ResultAckWait time.Duration
	// ResultBatch is the most results committed in one bbolt transaction.
	ResultBatch int

	// PublishWindow is the number of task publications in flight at once,
	// and recorded per bbolt transaction.
	PublishWindow int
	// PublishRetry is the delay before a publish pass that hit errors is
	// retried.
	PublishRetry time.Duration

	// Replicas is the stream and consumer replication factor (1 on a
	// single server, 3 on a cluster).
	Replicas int
	// TaskDuplicates and ResultDuplicates are the streams' Nats-Msg-Id
	// deduplication windows.
	TaskDuplicates   time.Duration
	ResultDuplicates time.Duration
	// MaxTaskBytes and MaxResultBytes cap the streams' sizes: publishing
	// beyond them fails instead of discarding messages.
	MaxTaskBytes   int64
	MaxResultBytes int64

	// ResultsRetention is how long the results archive
	// (StreamResultsArchive) keeps a copy of every result, committed or
	// not; 0 keeps none. The results stream itself is a work queue: a
	// result leaves it when committed. `sgsweep store rebuild` recovers
	// the results of this window over a backup.
	ResultsRetention time.Duration

	// BackupEvery is the period of the coordinator's store backups
	// (Coordinator.Backup); 0 takes none. BackupKeep is how many it keeps,
	// the newest; BackupDir is where, "" meaning backups/ beside the
	// store.
	BackupEvery time.Duration
	BackupKeep  int
	BackupDir   string

	// ReconcileEvery is the period of the reconciliation that republishes
	// pending tasks found in neither stream and records dead task messages
	// whose advisory was lost (see reconcile.go); 0 means the default.
	ReconcileEvery time.Duration

	// RateWindow is the period over which status measures throughput.
	RateWindow time.Duration

	// Logger receives the coordinator's logs; nil discards them.
	Logger *slog.Logger

	// TicketKey is the key of the task tickets (Tickets), TicketKeySize
	// bytes: LoadTicketKey reads the data dir's, so that tickets issued
	// before a restart stay valid. Nil makes a key for this process only
	// (tests): results of tasks it published are orphans for a successor.
	TicketKey []byte

	// NewDecider returns the stopping decider of a sweep's spec, nil for a
	// sweep without early stopping; nil means DefaultDecider (the spec's
	// stopping block). Tests set it to drive decisions by a rule of their
	// own.
	NewDecider func(spec *sweep.Spec) Decider
}

// DefaultConfig returns the production settings: a 30 s ack wait with
// heartbeats expected every 10 s, back-off 30 s, 1 min, 2 min, 5 min, 10 min,
// and 8 deliveries before a task is recorded as failed (preempted workers
// consume deliveries too, hence 8 rather than 3).
func DefaultConfig() Config {
	return Config{
		AckWait:          30 * time.Second,
		BackOff:          []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute},
		MaxDeliver:       8,
		MaxAckPending:    1024,
		MaxWaiting:       1024,
		ResultAckWait:    30 * time.Second,
		ResultBatch:      256,
		PublishWindow:    1000,
		PublishRetry:     2 * time.Second,
		Replicas:         1,
		TaskDuplicates:   5 * time.Minute,
		ResultDuplicates: 10 * time.Minute,
		MaxTaskBytes:     1 << 30,
		MaxResultBytes:   4 << 30,
		RateWindow:       5 * time.Minute,
		ResultsRetention: 7 * 24 * time.Hour,
		BackupEvery:      time.Hour,
		BackupKeep:       3,
		ReconcileEvery:   time.Minute,
	}
}

// Validate reports every inconsistent setting.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.AckWait <= 0 {
		bad("ack wait must be positive, got %v", c.AckWait)
	}
	if len(c.BackOff) > 0 && c.BackOff[0] != c.AckWait {
		bad("ack wait %v must equal the first back-off %v", c.AckWait, c.BackOff[0])
	}
	for i, d := range c.BackOff {
		if d <= 0 {
			bad("back-off[%d] must be positive, got %v", i, d)
		}
	}
	if c.MaxDeliver < 1 {
		bad("max deliver must be ≥ 1, got %d", c.MaxDeliver)
	}
	if len(c.BackOff) > c.MaxDeliver {
		bad("back-off has %d steps, more than max deliver %d", len(c.BackOff), c.MaxDeliver)
	}
	if c.MaxAckPending < 1 || c.MaxWaiting < 1 {
		bad("max ack pending and max waiting must be ≥ 1, got %d and %d", c.MaxAckPending, c.MaxWaiting)
	}
	if c.ResultAckWait <= 0 || c.PublishRetry <= 0 || c.RateWindow <= 0 {
		bad("result ack wait, publish retry and rate window must be positive")
	}
	if c.ResultBatch < 1 || c.PublishWindow < 1 {
		bad("result batch and publish window must be ≥ 1, got %d and %d", c.ResultBatch, c.PublishWindow)
	}
	if c.Replicas < 1 {
		bad("replicas must be ≥ 1, got %d", c.Replicas)
	}
	if c.TaskDuplicates < 100*time.Millisecond || c.ResultDuplicates < 100*time.Millisecond {
		bad("duplicate windows must be ≥ 100ms")
	}
	if c.ResultsRetention < 0 {
		bad("results retention must be ≥ 0, got %v", c.ResultsRetention)
	}
	if c.BackupEvery < 0 || c.BackupEvery > 0 && c.BackupKeep < 1 {
		bad("backups: every must be ≥ 0 and keep ≥ 1, got every %v, keep %d", c.BackupEvery, c.BackupKeep)
	}
	if c.TicketKey != nil && len(c.TicketKey) != TicketKeySize {
		bad("ticket key of %d bytes, want %d", len(c.TicketKey), TicketKeySize)
	}
	if c.MaxTaskBytes <= 0 || c.MaxResultBytes <= 0 {
		bad("stream size limits must be positive")
	}
	return errors.Join(errs...)
}

func (c *Config) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Logger
}
