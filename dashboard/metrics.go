package dashboard

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/sgsweep/sgsweep/coordinator"
	"github.com/sgsweep/sgsweep/internal/buildmetric"
	"github.com/sgsweep/sgsweep/protocol"
)

// metrics is the /metrics registry: counters and histograms fed by the
// coordinator's events, and gauges read from the status at scrape time.
type metrics struct {
	reg *prometheus.Registry

	committed, stored, duplicates, conflicts, rejected, redelivered prometheus.Counter
	failures                                                        *prometheus.CounterVec
	epochs, resyncs                                                 prometheus.Counter
	commitSeconds                                                   prometheus.Histogram
	taskSeconds                                                     *prometheus.HistogramVec
}

func newMetrics(src Source, h *hub) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	counter := func(name, help string) prometheus.Counter {
		c := prometheus.NewCounter(prometheus.CounterOpts{Namespace: "sgsweep", Name: name, Help: help})
		m.reg.MustRegister(c)
		return c
	}
	m.committed = counter("results_committed_total", "Result messages committed (stored, duplicate or conflicting).")
	m.stored = counter("results_stored_total", "Results and failures that settled a task.")
	m.duplicates = counter("results_duplicate_total", "Identical copies of stored results (stored once).")
	m.conflicts = counter("results_conflict_total", "Differing results of a task that already had one (kept aside).")
	m.rejected = counter("messages_rejected_total", "Unusable messages set aside.")
	m.redelivered = counter("results_redelivered_total", "Results computed on a second or later delivery of their task.")
	m.epochs = counter("epochs_total", "Training epochs reported by workers' progress messages.")
	m.resyncs = counter("dashboard_event_resyncs_total", "Times the dashboard fell behind the coordinator's events and dropped some.")
	m.failures = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "sgsweep", Name: "task_failures_total",
		Help: "Tasks recorded failed: a failed result, or a dead letter (deliveries exhausted, message terminated)."},
		[]string{"source"})
	m.commitSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "sgsweep", Name: "commit_batch_seconds",
		Help: "Time of one store transaction committing a batch of results.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)})
	m.taskSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "sgsweep", Name: "task_run_seconds",
		Help: "Workers' wall time per task, by result status.", Buckets: prometheus.ExponentialBuckets(1, 2, 16)},
		[]string{"status"})
	m.reg.MustRegister(m.failures, m.commitSeconds, m.taskSeconds,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewBuildInfoCollector(), statusCollector{src: src, hub: h}, buildmetric.New("the coordinator"))
	return m
}

// observe counts one event.
func (m *metrics) observe(ev coordinator.Event) {
	if m == nil {
		return
	}
	if ev.Resync {
		m.resyncs.Inc()
	}
	if ev.Progress != nil {
		m.epochs.Inc()
	}
	c := ev.Commit
	if c == nil {
		return
	}
	m.commitSeconds.Observe(c.Took.Seconds())
	m.committed.Add(float64(len(c.Results)))
	m.stored.Add(float64(c.Report.Stored))
	m.duplicates.Add(float64(c.Report.Duplicates))
	m.conflicts.Add(float64(c.Report.Conflicts))
	m.rejected.Add(float64(c.Report.Rejected))
	m.failures.WithLabelValues("dead_letter").Add(float64(len(c.Failures)))
	for _, r := range c.Results {
		if r.Status == protocol.StatusFailed {
			m.failures.WithLabelValues("result").Inc()
		}
		if r.Attempt > 1 {
			m.redelivered.Inc()
		}
		if r.RunSeconds > 0 {
			m.taskSeconds.WithLabelValues(r.Status).Observe(r.RunSeconds)
		}
	}
}

// statusCollector reads the sweeps' status at scrape time: tasks by sweep
// and state, duplicates and conflicts per sweep, the rate, the queue, and
// the workers seen recently.
type statusCollector struct {
	src Source
	hub *hub
}

var (
	descTasks = prometheus.NewDesc("sgsweep_tasks", "Planned tasks by sweep and state (done, stopped, failed, pending; "+
		"diverged counts done tasks whose loss diverged; stopped ones a stop decision ended early).", []string{"sweep", "state"}, nil)
	descSweepDuplicates = prometheus.NewDesc("sgsweep_sweep_duplicates", "Identical results received again, by sweep.", []string{"sweep"}, nil)
	descSweepConflicts  = prometheus.NewDesc("sgsweep_sweep_conflicts", "Differing results kept aside, by sweep.", []string{"sweep"}, nil)
	descSweepRunning    = prometheus.NewDesc("sgsweep_sweep_running", "1 while the sweep is running, 0 once done or cancelled.", []string{"sweep"}, nil)
	descRate            = prometheus.NewDesc("sgsweep_settle_rate", "Tasks settled per second over the coordinator's rate window.", nil, nil)
	descQueue           = prometheus.NewDesc("sgsweep_queue_tasks", "The task queue: waiting (not yet delivered), running "+
		"(delivered, not acked), redelivered (delivered more than once, not acked), idle_slots (workers' slots waiting).", []string{"state"}, nil)
	descWorkers = prometheus.NewDesc("sgsweep_workers_seen", "Workers heard of (progress or results) in the last 5 minutes.", nil, nil)
	descUp      = prometheus.NewDesc("sgsweep_status_up", "1 if the status could be read at this scrape.", nil, nil)
)

func (c statusCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descTasks, descSweepDuplicates, descSweepConflicts, descSweepRunning,
		descRate, descQueue, descWorkers, descUp} {
		ch <- d
	}
}

func (c statusCollector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := c.src.Status(ctx, "")
	if err != nil {
		gauge(descUp, 0)
		return
	}
	gauge(descUp, 1)
	for _, s := range st.Sweeps {
		gauge(descTasks, float64(s.Done), s.Name, "done")
		gauge(descTasks, float64(s.Failed), s.Name, "failed")
		gauge(descTasks, float64(s.Pending), s.Name, "pending")
		gauge(descTasks, float64(s.Diverged), s.Name, "diverged")
		gauge(descTasks, float64(s.Stopped), s.Name, "stopped")
		gauge(descSweepDuplicates, float64(s.Duplicates), s.Name)
		gauge(descSweepConflicts, float64(s.Conflicts), s.Name)
		running := 0.0
		if s.State == "running" {
			running = 1
		}
		gauge(descSweepRunning, running, s.Name)
	}
	if st.Source == coordinator.SourceCoordinator {
		gauge(descRate, st.Rate)
		gauge(descWorkers, float64(c.hub.workersSeen()))
	}
	if q := st.Queue; q != nil {
		gauge(descQueue, float64(q.Waiting), "waiting")
		gauge(descQueue, float64(q.Running), "running")
		gauge(descQueue, float64(q.Redelivered), "redelivered")
		gauge(descQueue, float64(q.IdleSlots), "idle_slots")
	}
}
