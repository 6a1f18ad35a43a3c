package worker

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sgsweep/sgsweep/internal/buildmetric"
	"github.com/sgsweep/sgsweep/internal/httpserve"
)

// RunSecondsBuckets are the upper bounds of sgsweep_worker_task_run_seconds,
// in seconds: a tiny test task takes about a second, a long SHD run hours.
var RunSecondsBuckets = []float64{1, 2, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 28800, 86400}

// Crash kinds of sgsweep_worker_task_process_crashes_total (see crashKind).
const (
	crashKilled = "killed" // SIGKILL: the OOM killer, a memory limit, an operator
	crashSignal = "signal" // any other signal: SIGSEGV, SIGABRT, SIGBUS…
	crashExit   = "exit"   // exited, with any status, without reporting the end of its run
	crashIO     = "io"     // could not be started, or its output could not be read
)

// metrics are a worker's Prometheus series, in a registry of its own (a
// process may hold many workers: tests do). The outcome counters are the
// worker's stats, read at each scrape; what Stats does not count is
// counted here.
type metrics struct {
	reg *prometheus.Registry
	// started counts training runs begun; running those not yet ended.
	started, running atomic.Int64
	epochs           prometheus.Counter
	memoryRefusals   prometheus.Counter
	crashes          *prometheus.CounterVec
	runSeconds       prometheus.Histogram
	lastFinished     prometheus.Gauge
}

var (
	descTasks = prometheus.NewDesc("sgsweep_worker_tasks_total", "Tasks by what became of them: started (training "+
		"runs begun), completed (results published, stopped ones included), stopped (completed runs a stop decision "+
		"ended early), failed (failure results published), duplicate (results the stream already held), retried "+
		"(handed back with a delay after an error that may be environmental), requeued (handed back at shutdown), "+
		"skipped (already had a result), terminated (unusable messages).", []string{"outcome"}, nil)
	descRunning = prometheus.NewDesc("sgsweep_worker_tasks_running", "Training runs in progress.", nil, nil)
	descSlots   = prometheus.NewDesc("sgsweep_worker_slots", "Task slots: the most runs trained at once.", nil, nil)
	descInfo    = prometheus.NewDesc("sgsweep_worker_info", "Always 1: the worker's ID and host, as in its results' "+
		"provenance.", []string{"worker", "host"}, nil)
)

func newMetrics(w *Worker) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	opts := func(name, help string) prometheus.Opts {
		return prometheus.Opts{Namespace: "sgsweep", Subsystem: "worker", Name: name, Help: help}
	}
	m.epochs = prometheus.NewCounter(prometheus.CounterOpts(opts("epochs_total", "Training epochs finished.")))
	m.memoryRefusals = prometheus.NewCounter(prometheus.CounterOpts(opts("memory_refusals_total",
		"Tasks failed unrun because their memory estimate exceeded --max-task-memory.")))
	m.crashes = prometheus.NewCounterVec(prometheus.CounterOpts(opts("task_process_crashes_total",
		"Task processes that ended without reporting the end of their run, by kind: killed (SIGKILL: out of "+
			"memory?), signal (another signal), exit (exited), io (not started, or unreadable output).")), []string{"kind"})
	for _, kind := range []string{crashKilled, crashSignal, crashExit, crashIO} {
		m.crashes.WithLabelValues(kind)
	}
	m.runSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "sgsweep", Subsystem: "worker",
		Name: "task_run_seconds", Help: "Wall time of each training run that ended, with a result or an error " +
			"(not those cancelled at shutdown).", Buckets: RunSecondsBuckets})
	m.lastFinished = prometheus.NewGauge(prometheus.GaugeOpts(opts("last_task_finished_timestamp_seconds",
		"Unix time at which the last training run ended; 0 before the first.")))
	m.reg.MustRegister(m.epochs, m.memoryRefusals, m.crashes, m.runSeconds, m.lastFinished,
		statsCollector{w: w}, buildmetric.New("the worker"),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// runStarted counts a training run begun.
func (m *metrics) runStarted() {
	m.started.Add(1)
	m.running.Add(1)
}

// runEnded counts a training run that took d and returned err (nil for a
// result).
func (m *metrics) runEnded(d time.Duration, err error) {
	m.running.Add(-1)
	if errors.Is(err, context.Canceled) {
		return // shutdown: neither a run time nor a finished task
	}
	m.runSeconds.Observe(d.Seconds())
	m.lastFinished.SetToCurrentTime()
	if ce := (*CrashError)(nil); errors.As(err, &ce) {
		m.crashes.WithLabelValues(crashKind(ce)).Inc()
	}
}

// crashKind sorts a crash of a task process for the crashes counter.
func crashKind(e *CrashError) string {
	switch {
	case e.Err != nil:
		return crashIO
	case e.Signal == "killed":
		return crashKilled
	case e.Signal != "":
		return crashSignal
	default:
		return crashExit
	}
}

// statsCollector reads the worker's counters at scrape time.
type statsCollector struct{ w *Worker }

func (c statsCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descTasks
	ch <- descRunning
	ch <- descSlots
	ch <- descInfo
}

func (c statsCollector) Collect(ch chan<- prometheus.Metric) {
	m, st := c.w.metrics, c.w.Stats()
	for _, o := range []struct {
		outcome string
		n       int64
	}{{"started", m.started.Load()}, {"completed", st.Completed}, {"stopped", st.Stopped}, {"failed", st.Failed},
		{"duplicate", st.Duplicates}, {"retried", st.Retried}, {"requeued", st.Requeued},
		{"skipped", st.Skipped}, {"terminated", st.Terminated}} {
		ch <- prometheus.MustNewConstMetric(descTasks, prometheus.CounterValue, float64(o.n), o.outcome)
	}
	ch <- prometheus.MustNewConstMetric(descRunning, prometheus.GaugeValue, float64(m.running.Load()))
	ch <- prometheus.MustNewConstMetric(descSlots, prometheus.GaugeValue, float64(c.w.cfg.Concurrency))
	ch <- prometheus.MustNewConstMetric(descInfo, prometheus.GaugeValue, 1, c.w.cfg.ID, c.w.cfg.Host)
}

// MetricsHandler serves the worker's metrics in the Prometheus exposition
// format, whatever the path; it checks no token (see ServeMetrics).
func (w *Worker) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(w.metrics.reg, promhttp.HandlerOpts{})
}

// ServeMetrics serves GET /metrics on ln until ctx is done: with a token,
// to requests that carry it (Authorization: Bearer); without one, to
// requests addressed to a loopback host name (httpserve.RequireToken).
// Run it beside Run, with Run's context.
func (w *Worker) ServeMetrics(ctx context.Context, ln net.Listener, token string) error {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", w.MetricsHandler())
	return httpserve.Serve(ctx, ln, httpserve.RequireToken(token, mux))
}
