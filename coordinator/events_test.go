package coordinator_test

import (
	"testing"
	"time"

	"github.com/sgsweep/sgsweep/coordinator"
	"github.com/sgsweep/sgsweep/coordinator/coordtest"
	"github.com/sgsweep/sgsweep/results/store"
)

// TestEvents: a subscriber sees every commit of a sweep's results (with
// their workers and run times) and the workers' progress; one that never
// reads loses events but never holds the commits up, and its next event
// says Resync.
func TestEvents(t *testing.T) {
	const n = 40
	e := coordtest.NewEnv(t, coordtest.CoordinatorConfig())
	events, stop := e.Coord.Subscribe(4096)
	defer stop()
	stuck, stopStuck := e.Coord.Subscribe(1) // never read until the end
	defer stopStuck()

	e.StartWorker("w1", 4, &coordtest.Fake{Sleep: 5 * time.Millisecond})
	spec := coordtest.Spec(t, e.Dir, "ev", n/2, []float64{0.01, 0.02}, "")
	if _, err := e.Submit(spec, false); err != nil {
		t.Fatal(err)
	}
	e.WaitSweep("ev", store.SweepDone, 30*time.Second)

	settled := map[string]bool{}
	progress := 0
	deadline := time.After(10 * time.Second)
	for len(settled) < n {
		select {
		case ev := <-events:
			switch {
			case ev.Commit != nil:
				if ev.Commit.Took <= 0 {
					t.Errorf("commit took %v", ev.Commit.Took)
				}
				for _, r := range ev.Commit.Results {
					if r.Sweep != "ev" || r.Worker == "" || r.RunSeconds <= 0 {
						t.Errorf("committed result %+v", r)
					}
					settled[r.TaskID] = true
				}
			case ev.Progress != nil:
				if ev.Progress.Sweep != "ev" || ev.Progress.Epochs == 0 {
					t.Errorf("progress %+v", ev.Progress)
				}
				progress++
			}
			if ev.Resync {
				t.Error("a subscriber that kept up was told to resync")
			}
		case <-deadline:
			t.Fatalf("saw %d of %d results committed", len(settled), n)
		}
	}
	if progress == 0 {
		t.Error("no progress event")
	}

	// The stuck subscriber got its one event, and is told to resync at the
	// next one.
	<-stuck
	e.Coord.Retry(t.Context(), coordinator.RetryRequest{Sweep: "ev"}) // no event
	spec2 := coordtest.Spec(t, e.Dir, "ev2", 1, []float64{0.03}, "")
	if _, err := e.Submit(spec2, false); err != nil {
		t.Fatal(err)
	}
	e.WaitSweep("ev2", store.SweepDone, 30*time.Second)
	select {
	case ev := <-stuck:
		if !ev.Resync {
			t.Errorf("the first event after drops has Resync false: %+v", ev)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no event after the buffer emptied")
	}
}
