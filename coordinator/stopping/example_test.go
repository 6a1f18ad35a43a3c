package stopping_test

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/sgsweep/sgsweep/coordinator/stopping"
	"github.com/sgsweep/sgsweep/protocol"
	"github.com/sgsweep/sgsweep/sim"
	"github.com/sgsweep/sgsweep/sweep"
)

// A sweep whose tasks stop when a median of completed peers is ahead.
func Example() {
	spec, err := sweep.Parse("example.yaml", []byte(`name: example
base: {train.epochs: 20}
grid:
  train.lr: [0.001, 0.01, 0.1, 1]
stopping:
  metric: val_acc
  rules: [{rule: median, warmup: 2, min_tasks: 3}]
`))
	if err != nil {
		panic(err)
	}
	tasks, _ := spec.Expand()
	engine := stopping.New(spec.Stopping())
	// Three tasks have finished; their val_acc at epoch 2 is 0.5, 0.6, 0.7.
	for i, acc := range []float64{0.5, 0.6, 0.7} {
		t := stopping.Task{ID: tasks[i].ID, Params: tasks[i].Params}
		engine.Finished(t, protocol.StatusOK, []sim.Epoch{{Epoch: 1, ValAcc: 0.3}, {Epoch: 2, ValAcc: acc}})
	}
	// The fourth reports its epochs.
	last := stopping.Task{ID: tasks[3].ID, Params: tasks[3].Params}
	now := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	fmt.Println(engine.Observe(last, sim.Epoch{Epoch: 1, ValAcc: 0.2}, now))
	d := engine.Observe(last, sim.Epoch{Epoch: 2, ValAcc: 0.4}, now)
	b, _ := json.Marshal(d)
	fmt.Println(string(b))
	// Output:
	// <nil>
	// {"epoch":2,"rule":"median","metric":"val_acc","mode":"max","value":0.4,"threshold":0.6,"against":[0.5,0.6,0.7],"decided_at":"2026-12-05T09:00:00Z"}
}
