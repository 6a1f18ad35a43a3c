package worker

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"runtime"
	"strconv"
	"time"

	"github.com/sgsweep/sgsweep/internal/retry"
)

// Config holds a worker's sizes and timings. Start from DefaultConfig.
type Config struct {
	// Concurrency is the number of task slots: tasks trained at once.
	Concurrency int
	// Threads is sim.Options.Threads for each run. Slots × threads should
	// not exceed the cores: many single-threaded runs (the default) give
	// the best throughput for a sweep; more threads per run finish each
	// run sooner (useful when there are fewer tasks than cores).
	Threads int
	// DataDir is sim.Options.DataDir: where dataset files live.
	DataDir string

	// Heartbeat is the interval of in-progress signals while a task runs;
	// 0 means a third of the consumer's ack wait.
	Heartbeat time.Duration
	// DrainTimeout is how long running tasks may take to finish after the
	// worker is told to stop; the rest are cancelled and handed back.
	DrainTimeout time.Duration
	// RetryDelay is the redelivery delay after an environmental failure
	// on the first delivery; it doubles with each delivery up to
	// MaxRetryDelay.
	RetryDelay    time.Duration
	MaxRetryDelay time.Duration
	// PublishTimeout bounds publishing a result (retries included) and
	// acknowledging its task.
	PublishTimeout time.Duration

	// MaxTaskMemory refuses, as a deterministic failure, tasks whose
	// memory estimate (sim.Config.MemoryEstimate at Threads) exceeds it, in
	// bytes; 0 means no limit.
	MaxTaskMemory int64
	// LookupTimeout bounds the question to the coordinator, before each
	// task, whether the task already has a result (then it is acked without
	// training); 0 skips the question.
	LookupTimeout time.Duration
	// ProgressReplyTimeout bounds the wait, after each epoch but the last
	// of a task with stopping rules (protocol.TaskMsg.Stopping), for the
	// coordinator's reply to the epoch's progress request, which may carry
	// a stop decision; no reply in time means continue. 0 sends plain
	// progress messages: the worker never hears a decision.
	ProgressReplyTimeout time.Duration

	// Host and ID identify the worker in provenance; ID is unique per
	// process.
	Host string
	ID   string

	// Logger receives the worker's logs; nil discards them.
	Logger *slog.Logger
}

// DefaultConfig returns one single-threaded slot per core, heartbeats at a
// third of the ack wait, a 10 s drain, retry delays from 30 s to 5 min, a
// task memory limit of half the machine (DefaultMaxTaskMemory), a 1 s
// result lookup and a 2 s wait for progress replies.
func DefaultConfig() Config {
	host, err := os.Hostname()
	if err != nil {
		host = "unknown"
	}
	return Config{
		Concurrency:          runtime.NumCPU(),
		Threads:              1,
		DrainTimeout:         10 * time.Second,
		RetryDelay:           30 * time.Second,
		MaxRetryDelay:        5 * time.Minute,
		PublishTimeout:       30 * time.Second,
		MaxTaskMemory:        DefaultMaxTaskMemory(),
		LookupTimeout:        time.Second,
		ProgressReplyTimeout: 2 * time.Second,
		Host:                 host,
		ID:                   host + "/" + strconv.Itoa(os.Getpid()),
	}
}

// Validate reports every invalid setting.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.Concurrency < 1 {
		bad("concurrency must be ≥ 1, got %d", c.Concurrency)
	}
	if c.Threads < 0 {
		bad("threads must be ≥ 0, got %d", c.Threads)
	}
	if c.Heartbeat < 0 {
		bad("heartbeat must be ≥ 0, got %v", c.Heartbeat)
	}
	if c.DrainTimeout < 0 {
		bad("drain timeout must be ≥ 0, got %v", c.DrainTimeout)
	}
	if c.RetryDelay <= 0 || c.MaxRetryDelay < c.RetryDelay {
		bad("retry delay must be positive and ≤ max retry delay, got %v and %v", c.RetryDelay, c.MaxRetryDelay)
	}
	if c.PublishTimeout <= 0 {
		bad("publish timeout must be positive, got %v", c.PublishTimeout)
	}
	if c.MaxTaskMemory < 0 {
		bad("max task memory must be ≥ 0, got %d", c.MaxTaskMemory)
	}
	if c.LookupTimeout < 0 {
		bad("lookup timeout must be ≥ 0, got %v", c.LookupTimeout)
	}
	if c.ProgressReplyTimeout < 0 {
		bad("progress reply timeout must be ≥ 0, got %v", c.ProgressReplyTimeout)
	}
	if c.ID == "" {
		bad("worker ID must not be empty")
	}
	return errors.Join(errs...)
}

// retryDelay is the redelivery delay after an environmental failure of the
// given (1-based) delivery: RetryDelay·2^(delivery−1), at most
// MaxRetryDelay.
func (c *Config) retryDelay(delivery uint64) time.Duration {
	b := retry.Backoff{Base: c.RetryDelay, Max: c.MaxRetryDelay}
	return b.Delay(int(min(delivery, math.MaxInt32)))
}

func (c *Config) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Logger
}
