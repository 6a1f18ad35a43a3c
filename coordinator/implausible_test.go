package coordinator_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sgsweep/sgsweep/coordinator"
	"github.com/sgsweep/sgsweep/coordinator/coordtest"
	"github.com/sgsweep/sgsweep/results"
	"github.com/sgsweep/sgsweep/results/store"
)

// A task whose every computation is implausible is published again after
// each rejected result (its worker acked it) until MaxDeliver results have
// been rejected, then recorded failed with the reason: it does not loop.
// A retry gives it a fresh budget.
func TestImplausibleResultsFailTheTask(t *testing.T) {
	cfg := coordtest.CoordinatorConfig()
	cfg.ReconcileEvery = 100 * time.Millisecond
	e := coordtest.NewEnv(t, cfg)
	fake := &coordtest.Fake{Implausible: []uint64{2}}
	e.StartWorker("w1", 2, fake)
	if _, err := e.Submit(coordtest.Spec(t, e.Dir, "implausible", 3, nil, ""), false); err != nil {
		t.Fatal(err)
	}
	info := e.WaitSweep("implausible", store.SweepDone, 30*time.Second)
	if info.Done != 2 || info.Failed != 1 {
		t.Errorf("sweep = %+v, want 2 done, 1 failed", info)
	}
	r := e.Records("implausible")[1] // seed 2
	if r.State != results.StateFailed || !strings.Contains(r.Error, "3 results rejected, the last: implausible result") ||
		r.Attempts != cfg.MaxDeliver {
		t.Errorf("seed 2: state %s, attempts %d, error %q", r.State, r.Attempts, r.Error)
	}
	if got := fake.StartedOf(2); got != cfg.MaxDeliver {
		t.Errorf("seed 2 ran %d times, want %d", got, cfg.MaxDeliver)
	}
	bg := context.Background()
	if tot, err := e.Store.Totals(bg); err != nil || tot.Rejected != cfg.MaxDeliver {
		t.Errorf("totals %+v, %v: want %d rejected", tot, err, cfg.MaxDeliver)
	}
	e.WantDrained()
	// Nothing is published again once it failed.
	time.Sleep(5 * cfg.ReconcileEvery)
	if got := fake.StartedOf(2); got != cfg.MaxDeliver {
		t.Errorf("seed 2 ran %d times after it failed", got)
	}

	// retry: a fresh budget of MaxDeliver results.
	if _, err := e.Coord.Retry(bg, coordinator.RetryRequest{Sweep: "implausible"}); err != nil {
		t.Fatal(err)
	}
	coordtest.WaitFor(t, 30*time.Second, "seed 2 run again", func() bool { return fake.StartedOf(2) == 2*cfg.MaxDeliver })
	if info := e.WaitSweep("implausible", store.SweepDone, 30*time.Second); info.Failed != 1 {
		t.Errorf("sweep after the retry = %+v", info)
	}
	time.Sleep(5 * cfg.ReconcileEvery)
	if got := fake.StartedOf(2); got != 2*cfg.MaxDeliver {
		t.Errorf("seed 2 ran %d times after a retry, want %d", got, 2*cfg.MaxDeliver)
	}
}
