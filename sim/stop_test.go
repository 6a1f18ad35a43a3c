package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"
)

// TestTrainStopMatchesShorterRun: a run of 5 epochs that Options.Stop ends
// after epoch n has, bit for bit, the Result of a run of n epochs, except
// for its status; Stop is called after OnEpoch and never for the last
// epoch.
func TestTrainStopMatchesShorterRun(t *testing.T) {
	cfg := quickRandman()
	cfg.Dataset.SamplesPerClass = 50
	cfg.Train.Epochs = 5
	marshal := func(res *Result) []byte {
		b, err := json.Marshal(res)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, n := range []int{1, 3} {
		t.Run(fmt.Sprint("stop after ", n), func(t *testing.T) {
			var calls []string
			opts := Options{
				OnEpoch: func(e Epoch, _ float64) { calls = append(calls, fmt.Sprint("epoch ", e.Epoch)) },
				Stop: func(e Epoch) bool {
					calls = append(calls, fmt.Sprint("stop? ", e.Epoch))
					return e.Epoch == n
				},
			}
			stopped, _, err := Train(context.Background(), cfg, opts)
			if err != nil {
				t.Fatal(err)
			}
			if stopped.Status != StatusStopped || len(stopped.Epochs) != n {
				t.Fatalf("status %s after %d epochs, want stopped after %d", stopped.Status, len(stopped.Epochs), n)
			}
			var want []string
			for e := 1; e <= n; e++ {
				want = append(want, fmt.Sprint("epoch ", e), fmt.Sprint("stop? ", e))
			}
			if fmt.Sprint(calls) != fmt.Sprint(want) {
				t.Errorf("calls %q, want %q", calls, want)
			}

			short := cfg
			short.Train.Epochs = n
			ref, _, err := Train(context.Background(), short, Options{Threads: 2})
			if err != nil {
				t.Fatal(err)
			}
			if ref.Status != StatusOK {
				t.Fatalf("%d-epoch run: status %s", n, ref.Status)
			}
			ref.Status = StatusStopped
			if got, want := marshal(stopped), marshal(ref); !bytes.Equal(got, want) {
				t.Errorf("stopped after %d:\n%s\n%d-epoch run:\n%s", n, got, n, want)
			}
		})
	}
}

// TestTrainStopNeverAsksAtTheEnd: a Stop that always says no is asked
// after every epoch but the last, and the run ends ok.
func TestTrainStopNeverAsksAtTheEnd(t *testing.T) {
	cfg := quickRandman()
	cfg.Dataset.SamplesPerClass = 20
	cfg.Train.Epochs = 3
	var asked []int
	res, _, err := Train(context.Background(), cfg, Options{Stop: func(e Epoch) bool {
		asked = append(asked, e.Epoch)
		return false
	}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != StatusOK || len(res.Epochs) != 3 || fmt.Sprint(asked) != "[1 2]" {
		t.Errorf("status %s after %d epochs, Stop asked after %v; want ok after 3, asked after [1 2]",
			res.Status, len(res.Epochs), asked)
	}
}

// TestTrainDivergedBeforeStop: divergence ends the run as diverged even
// when Stop would stop it; Stop is not asked about an epoch that diverged.
func TestTrainDivergedBeforeStop(t *testing.T) {
	cfg := quickRandman()
	cfg.Dataset.SamplesPerClass = 50
	cfg.Train.LR = 1e308
	asked := 0
	res, _, err := Train(context.Background(), cfg, Options{Stop: func(Epoch) bool { asked++; return true }})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != StatusDiverged || asked != len(res.Epochs) {
		t.Errorf("status %s, Stop asked %d times for %d completed epochs; want diverged, asked once per completed epoch",
			res.Status, asked, len(res.Epochs))
	}
}
