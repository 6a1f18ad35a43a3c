package main

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/sgsweep/sgsweep/coordinator"
	"github.com/sgsweep/sgsweep/internal/httpserve"
	"github.com/sgsweep/sgsweep/worker"
)

func init() { commands = append(commands, workerCommand) }

// trainer, if set, is what workers train with, in their own process: tests
// of the commands set it (in their own process only) to a scripted
// stand-in. Unset, workers train with the simulator, by default in a child
// process per task (see taskRunner).
var trainer worker.Runner

func workerCommand() *cli.Command {
	flags := []cli.Flag{
		dataDirFlag(),
		&cli.IntFlag{Name: "concurrency", Aliases: []string{"c"}, Value: runtime.NumCPU(),
			Usage: "task slots: trainings run at once", EnvVars: []string{"SGSWEEP_CONCURRENCY"}},
	}
	flags = append(flags, natsFlags()...)
	flags = append(flags, workerFlags()...)
	flags = append(flags, workerMetricsFlags()...)
	return &cli.Command{
		Name:  "worker",
		Usage: "run a worker: take tasks from NATS, train them, publish the results",
		Description: "Pulls one task per free slot from the coordinator's queue and trains it with the simulator,\n" +
			"sending heartbeats while it runs and the learning curve epoch by epoch; publishes the result, then\n" +
			"acknowledges the task. On SIGINT/SIGTERM it stops taking tasks, lets running ones finish within\n" +
			"--drain-timeout, hands the rest back for immediate redelivery and exits 0; a second signal exits\n" +
			"at once (those tasks come back after the ack wait).\n\n" +
			"Each task trains in a child process (--isolation process): a crash or an out-of-memory kill fails\n" +
			"only that task (retried, then recorded failed). A task whose memory estimate exceeds\n" +
			"--max-task-memory fails at once. A task the coordinator says already has a result is acknowledged\n" +
			"without training.\n\n" +
			"Slots × --threads should not exceed the cores: many single-threaded runs (the default) give the\n" +
			"most runs per hour; more threads per run finish each run sooner, for sweeps with fewer tasks\n" +
			"than cores. Without --nats the worker joins the embedded server of --data-dir (nats.json).\n\n" +
			"With --metrics ADDR it serves Prometheus metrics on http://ADDR/metrics (tasks by outcome, runs in\n" +
			"progress, epochs, run times, crashes); any address but loopback needs --metrics-token.",
		Flags:  flags,
		Action: runWorker,
	}
}

// workerFlags are the worker's tuning flags (run and worker).
func workerFlags() []cli.Flag {
	def := worker.DefaultConfig()
	return []cli.Flag{
		&cli.IntFlag{Name: "threads", Value: def.Threads,
			Usage: "goroutines per training run (0: all cores); does not change results", EnvVars: []string{"SGSWEEP_THREADS"}},
		&cli.DurationFlag{Name: "heartbeat", Usage: "interval of in-progress signals while a task runs (0: a third of the ack wait)",
			EnvVars: []string{"SGSWEEP_HEARTBEAT"}},
		&cli.DurationFlag{Name: "drain-timeout", Value: def.DrainTimeout,
			Usage:   "on shutdown, how long running tasks may take to finish before they are handed back",
			EnvVars: []string{"SGSWEEP_DRAIN_TIMEOUT"}},
		&cli.DurationFlag{Name: "retry-delay", Value: def.RetryDelay,
			Usage:   "redelivery delay after a failure that may be environmental (doubles per delivery, at most 5m)",
			EnvVars: []string{"SGSWEEP_RETRY_DELAY"}},
		&cli.StringFlag{Name: "isolation", Value: "process",
			Usage: "where tasks train: process (a child process per task: a crash or OOM kill fails only that task) " +
				"or none (in the worker's process)", EnvVars: []string{"SGSWEEP_ISOLATION"}},
		&cli.StringFlag{Name: "max-task-memory", Value: "auto",
			Usage: "refuse tasks whose memory estimate exceeds this, e.g. 4GiB, 512MB (auto: half the machine's " +
				"memory or cgroup limit; 0: no limit)", EnvVars: []string{"SGSWEEP_MAX_TASK_MEMORY"}},
		&cli.DurationFlag{Name: "stop-reply-timeout", Value: def.ProgressReplyTimeout,
			Usage: "for a sweep with stopping rules, how long to wait after each epoch for the coordinator's " +
				"stop decision before training on (0: never wait, so never stop early)",
			EnvVars: []string{"SGSWEEP_STOP_REPLY_TIMEOUT"}},
		datasetDirFlag(),
	}
}

// workerMetricsToken is the environment variable that --metrics-token reads.
const workerMetricsToken = "SGSWEEP_WORKER_METRICS_TOKEN"

// workerMetricsExposure names --metrics in the refusal of an address that
// needs a token.
var workerMetricsExposure = httpserve.Exposure{What: "--metrics address", Could: "read this worker's metrics",
	TokenHint: "--metrics-token or " + workerMetricsToken}

// workerMetricsFlags are the flags of the worker's /metrics (worker only:
// run's coordinator serves the study's metrics).
func workerMetricsFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "metrics", Usage: "serve Prometheus metrics on http://`HOST:PORT`/metrics (port 0: " +
			"random; default off); any address but loopback needs --metrics-token", EnvVars: []string{"SGSWEEP_WORKER_METRICS"}},
		&cli.StringFlag{Name: "metrics-token", Usage: "the access `TOKEN` of --metrics, required on every request " +
			"(Authorization: Bearer)", EnvVars: []string{workerMetricsToken}},
	}
}

// workerConfigOf reads the worker flags; slots is the number of task slots.
func workerConfigOf(c *cli.Context, slots int, log *slog.Logger) (worker.Config, error) {
	cfg := worker.DefaultConfig()
	cfg.Concurrency = slots
	cfg.Threads = c.Int("threads")
	cfg.Heartbeat = c.Duration("heartbeat")
	cfg.DrainTimeout = c.Duration("drain-timeout")
	cfg.RetryDelay = c.Duration("retry-delay")
	cfg.ProgressReplyTimeout = c.Duration("stop-reply-timeout")
	cfg.MaxRetryDelay = max(cfg.MaxRetryDelay, cfg.RetryDelay)
	cfg.DataDir = c.String("dataset-dir")
	if s := c.String("max-task-memory"); s != "auto" {
		n, err := parseBytes(s)
		if err != nil {
			return cfg, usageError{fmt.Errorf("--max-task-memory: %w", err)}
		}
		cfg.MaxTaskMemory = n
	}
	cfg.Logger = log
	if err := cfg.Validate(); err != nil {
		return cfg, usageError{err}
	}
	return cfg, nil
}

func runWorker(c *cli.Context) error {
	if c.NArg() != 0 {
		return usageError{fmt.Errorf("worker takes no arguments, got %q", c.Args().Slice())}
	}
	log, err := newLogger(c)
	if err != nil {
		return usageError{err}
	}
	cfg, err := workerConfigOf(c, c.Int("concurrency"), log)
	if err != nil {
		return err
	}
	metricsAddr, metricsToken := c.String("metrics"), c.String("metrics-token")
	if metricsAddr != "" {
		if err := workerMetricsExposure.CheckAddr(metricsAddr, metricsToken); err != nil {
			return usageError{err}
		}
	}
	n := natsSettingsOf(c)
	if err := n.resolve(dataDirOf(c), coordinator.RoleWorker); err != nil {
		return err
	}
	nc, err := connectNATS(c.Context, n, "sgsweep-worker/"+cfg.ID, true, log)
	if err != nil {
		if c.Context.Err() != nil {
			return nil
		}
		return err
	}
	defer drain(nc)
	// A refused reconnection (rotated credentials) stops the worker with
	// an error; any other disconnection is retried forever.
	ctx, stop := context.WithCancelCause(c.Context)
	defer stop(nil)
	n.exitOnRefusal(nc, stop)
	run, err := taskRunner(c)
	if err != nil {
		return err
	}
	w, err := worker.New(nc, run, cfg)
	if err != nil {
		return err
	}
	if metricsAddr != "" {
		stopMetrics, err := serveWorkerMetrics(c, log, w, metricsAddr, metricsToken)
		if err != nil {
			return err
		}
		defer stopMetrics()
	}
	go exitOnSecondSignal(ctx, log)
	err = w.Run(ctx)
	if cause := context.Cause(ctx); c.Context.Err() == nil && cause != nil {
		return cause
	}
	return err
}

// serveWorkerMetrics listens on addr, says where, and serves w's /metrics
// until stop is called (after the worker's drain: a signal does not end
// it); stop waits for the server.
func serveWorkerMetrics(c *cli.Context, log *slog.Logger, w *worker.Worker, addr, token string) (stop func(), err error) {
	ln, err := workerMetricsExposure.Listen(addr, token)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(c.App.ErrWriter, "metrics: %smetrics\n", httpserve.URL(ln))
	ctx, cancel := context.WithCancel(context.WithoutCancel(c.Context))
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := w.ServeMetrics(ctx, ln, token); err != nil {
			log.Warn("metrics server", "err", err)
		}
	}()
	return func() { cancel(); <-done }, nil
}

// exitOnSecondSignal exits the process at once on a signal received after
// ctx was cancelled (by the first one).
func exitOnSecondSignal(ctx context.Context, log *slog.Logger) {
	<-ctx.Done()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	s := <-sig
	log.Warn("second signal: exiting without draining", "signal", s.String())
	time.Sleep(10 * time.Millisecond) // let the log line out
	os.Exit(130)
}

// parseBytes reads a size in bytes: an integer with an optional unit, B,
// kB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (powers of 1024).
func parseBytes(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   float64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
		{"kB", 1e3}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1}}
	num, mult := strings.TrimSpace(s), 1.0
	for _, u := range units {
		if rest, ok := strings.CutSuffix(num, u.suffix); ok {
			num, mult = strings.TrimSpace(rest), u.mult
			break
		}
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || !(v >= 0) || v*mult >= math.MaxInt64 {
		return 0, fmt.Errorf("%q is not a size like 4GiB, 512MB or 0", s)
	}
	return int64(v * mult), nil
}
