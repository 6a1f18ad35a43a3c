package worker_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/sgsweep/sgsweep/coordinator/coordtest"
	"github.com/sgsweep/sgsweep/results/store"
	"github.com/sgsweep/sgsweep/worker"
)

// serveMetrics serves w's /metrics on a loopback port until the test ends
// and returns its base URL.
func serveMetrics(t *testing.T, w *worker.Worker, token string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.ServeMetrics(ctx, ln, token) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("ServeMetrics: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

// get requests url with the header pairs and returns the status and body.
func get(t *testing.T, url string, host string, header ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

// scrape reads the metrics at base/metrics, as Prometheus would.
func scrape(t *testing.T, base string, header ...string) map[string]*dto.MetricFamily {
	t.Helper()
	code, body := get(t, base+"/metrics", "", header...)
	if code != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", code, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse /metrics: %v\n%s", err, body)
	}
	return families
}

// value returns the value of the series of family name with the label
// pairs (counter, gauge, or a histogram's count), failing if it is absent.
func value(t *testing.T, families map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	t.Helper()
	f := families[name]
	if f == nil {
		t.Fatalf("no metric %s", name)
	}
next:
	for _, m := range f.GetMetric() {
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, l := range m.GetLabel() {
				found = found || l.GetName() == labels[i] && l.GetValue() == labels[i+1]
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	t.Fatalf("no series %s%v", name, labels)
	return 0
}

// A worker's /metrics counts what it did: a sweep of 6 tasks, 3 above the
// memory limit (refused unrun) and 1 invalid (failed by its run), gives 3
// runs started, 2 results and 4 failures, 2 epochs per completed run, and
// the counters equal the worker's Stats and the store's states.
func TestWorkerMetrics(t *testing.T) {
	e := coordtest.NewEnv(t, coordtest.CoordinatorConfig())
	wcfg := coordtest.WorkerConfig("metered", 2)
	wcfg.MaxTaskMemory = 1 << 30
	fake := &coordtest.Fake{Sleep: 20 * time.Millisecond, Invalid: []uint64{3}}
	w := startWorker(t, e, wcfg, fake.Train)
	base := serveMetrics(t, w.W, "")

	before := scrape(t, base)
	if v := value(t, before, "sgsweep_worker_tasks_total", "outcome", "started"); v != 0 {
		t.Errorf("started before any task: %v", v)
	}
	if v := value(t, before, "sgsweep_worker_last_task_finished_timestamp_seconds"); v != 0 {
		t.Errorf("last task finished before any task: %v", v)
	}

	start := time.Now()
	spec := coordtest.Spec(t, e.Dir, "meter", 3, nil, "grid:\n  network.hidden: [[4], [1000000]]\n")
	if _, err := e.Submit(spec, false); err != nil {
		t.Fatal(err)
	}
	info := e.WaitSweep("meter", store.SweepDone, 20*time.Second)
	if info.Done != 2 || info.Failed != 4 {
		t.Fatalf("sweep = %+v, want 2 done, 4 failed", info)
	}
	// The sweep is done once the coordinator has committed the results;
	// the worker counts each after its publication is acknowledged.
	coordtest.WaitFor(t, 5*time.Second, "the worker's counters", func() bool {
		st := w.W.Stats()
		return st.Completed+st.Failed == 6
	})

	m := scrape(t, base)
	st := w.W.Stats()
	for outcome, want := range map[string]float64{
		"started": 3, "completed": 2, "failed": 4, "stopped": 0, "duplicate": 0,
		"retried": 0, "requeued": 0, "skipped": 0, "terminated": 0,
	} {
		if got := value(t, m, "sgsweep_worker_tasks_total", "outcome", outcome); got != want {
			t.Errorf("tasks_total{outcome=%q} = %v, want %v", outcome, got, want)
		}
	}
	if st.Completed != 2 || st.Failed != 4 {
		t.Errorf("stats = %+v, want the metrics' 2 completed and 4 failed", st)
	}
	if fake.Runs() != 3 {
		t.Errorf("%d runs, want 3 (the refused ones never run)", fake.Runs())
	}
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"sgsweep_worker_memory_refusals_total", nil, 3},
		{"sgsweep_worker_epochs_total", nil, 4}, // 2 completed runs × 2 epochs; the invalid one trains none
		{"sgsweep_worker_task_run_seconds", nil, 3},
		{"sgsweep_worker_tasks_running", nil, 0},
		{"sgsweep_worker_slots", nil, 2},
		{"sgsweep_worker_task_process_crashes_total", []string{"kind", "killed"}, 0},
		{"sgsweep_worker_info", []string{"worker", "metered"}, 1},
		{"sgsweep_build_info", nil, 1},
	} {
		if got := value(t, m, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	last := value(t, m, "sgsweep_worker_last_task_finished_timestamp_seconds")
	if s := float64(start.Unix()); last < s || last > float64(time.Now().Unix()+1) {
		t.Errorf("last task finished at %v, want between %v and now", last, s)
	}
}

// Runs in progress show in the running gauge while they train.
func TestWorkerMetricsRunning(t *testing.T) {
	e := coordtest.NewEnv(t, coordtest.CoordinatorConfig())
	started := make(chan uint64, 10)
	fake := &coordtest.Fake{Block: []uint64{1, 2}, Started: started}
	w := startWorker(t, e, coordtest.WorkerConfig("busy", 3), fake.Train)
	base := serveMetrics(t, w.W, "")
	if _, err := e.Submit(coordtest.Spec(t, e.Dir, "busy", 2, nil, ""), false); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		select {
		case <-started:
		case <-time.After(10 * time.Second):
			t.Fatal("tasks not started")
		}
	}
	m := scrape(t, base)
	if got := value(t, m, "sgsweep_worker_tasks_running"); got != 2 {
		t.Errorf("tasks_running = %v, want 2", got)
	}
	if got := value(t, m, "sgsweep_worker_tasks_total", "outcome", "started"); got != 2 {
		t.Errorf("started = %v, want 2", got)
	}
}

// Task processes that exit or are killed are counted by kind, once per
// delivery: each of the two is tried 3 times.
func TestWorkerMetricsCrashes(t *testing.T) {
	e := coordtest.NewEnv(t, coordtest.CoordinatorConfig())
	w := startWorker(t, e, coordtest.WorkerConfig("crashy", 2), childRunner(t).Run)
	base := serveMetrics(t, w.W, "")
	if _, err := e.Submit(coordtest.Spec(t, e.Dir, "crashy", seedKilled, nil, ""), false); err != nil {
		t.Fatal(err)
	}
	e.WaitSweep("crashy", store.SweepDone, 60*time.Second)
	coordtest.WaitFor(t, 5*time.Second, "the worker's counters", func() bool {
		st := w.W.Stats()
		return st.Completed+st.Failed == seedKilled
	})
	m := scrape(t, base)
	for kind, want := range map[string]float64{"exit": 3, "killed": 3, "signal": 0, "io": 0} {
		if got := value(t, m, "sgsweep_worker_task_process_crashes_total", "kind", kind); got != want {
			t.Errorf("crashes{kind=%q} = %v, want %v", kind, got, want)
		}
	}
	for outcome, want := range map[string]float64{"started": 2 + 2*3, "completed": 2, "failed": 2, "retried": 4} {
		if got := value(t, m, "sgsweep_worker_tasks_total", "outcome", outcome); got != want {
			t.Errorf("tasks_total{outcome=%q} = %v, want %v", outcome, got, want)
		}
	}
}

// With a token, /metrics answers only requests that carry it; without
// one, only requests addressed to a loopback host name (no DNS
// rebinding). Other paths do not exist.
func TestWorkerMetricsAccess(t *testing.T) {
	e := coordtest.NewEnv(t, coordtest.CoordinatorConfig())
	w := startWorker(t, e, coordtest.WorkerConfig("guarded", 1), (&coordtest.Fake{}).Train)
	const token = "s3cret"
	guarded := serveMetrics(t, w.W, token)
	if code, _ := get(t, guarded+"/metrics", ""); code != http.StatusUnauthorized {
		t.Errorf("without the token: %d, want 401", code)
	}
	if code, _ := get(t, guarded+"/metrics", "", "Authorization", "Bearer wrong"); code != http.StatusUnauthorized {
		t.Errorf("with a wrong token: %d, want 401", code)
	}
	scrape(t, guarded, "Authorization", "Bearer "+token)

	open := serveMetrics(t, w.W, "")
	if code, _ := get(t, open+"/metrics", "attacker.example"); code != http.StatusMisdirectedRequest {
		t.Errorf("Host attacker.example without a token: %d, want 421", code)
	}
	if code, _ := get(t, open+"/metrics", "localhost"); code != http.StatusOK {
		t.Errorf("Host localhost: %d, want 200", code)
	}
	if code, _ := get(t, open+"/debug/pprof/", ""); code != http.StatusNotFound {
		t.Errorf("another path: %d, want 404", code)
	}
}
