package stopping

import (
	"fmt"
	"testing"

	"github.com/sgsweep/sgsweep/protocol"
	"github.com/sgsweep/sgsweep/sim"
	"github.com/sgsweep/sgsweep/sweep"
)

// benchPeers is the size of the benchmarks' group.
var benchPeers = 100_000

// benchEngine returns an engine with every rule whose one group holds
// peers finished tasks of 20 epochs (their values spread over [0.3, 0.7)),
// and a task that is new to it.
func benchEngine(b *testing.B, peers int) (*Engine, Task) {
	e := New(stopping("val_acc",
		sweep.StopRule{Rule: sweep.RuleChance, After: 2, Margin: 0.02},
		sweep.StopRule{Rule: sweep.RuleMedian, Warmup: 5, MinTasks: 5},
		sweep.StopRule{Rule: sweep.RuleASHA, Grace: 2, Reduction: 2}))
	proto := newTask(b, cell{"superspike", 4, 20}, 1)
	curve := make([]sim.Epoch, 20)
	for i := range peers {
		v := 0.3 + 0.4*float64(i%1000)/1000
		for j := range curve {
			curve[j] = sim.Epoch{Epoch: j + 1, ValAcc: v}
		}
		e.Finished(Task{ID: fmt.Sprint("peer", i), Params: proto.Params}, protocol.StatusOK, curve)
	}
	return e, proto
}

// BenchmarkObserve measures Observe at epoch 8 (a median epoch and an
// asha rung) of a task of a group of 10⁵ finished peers: continuing
// (above the median and the cut-off: O(epochs)), and stopped (the
// decision copies the 10⁵ peers' values into Against: O(n)). Each
// iteration observes a task the engine knows (its params read once, on
// the first epoch, outside the timing).
func BenchmarkObserve(b *testing.B) {
	for _, bc := range []struct {
		name  string
		value float64
	}{{"continue", 0.69}, {"stop", 0.31}} {
		b.Run(bc.name, func(b *testing.B) {
			e, proto := benchEngine(b, benchPeers)
			var n int
			task := func() Task {
				n++
				return Task{ID: fmt.Sprint("task", n), Params: proto.Params}
			}
			var t Task
			ep := sim.Epoch{Epoch: 8, ValAcc: bc.value}
			for b.Loop() {
				b.StopTimer()
				t = task()
				e.Observe(t, sim.Epoch{Epoch: 1, ValAcc: 0.9}, now)
				b.StartTimer()
				d := e.Observe(t, ep, now)
				if (d != nil) != (bc.name == "stop") {
					b.Fatalf("decision %s", describeDecision(d))
				}
			}
		})
	}
}

// BenchmarkReplay measures feeding 10⁵ finished tasks of 20 epochs to a
// new engine, as the coordinator does on restart, and the first read of
// the sets they filled.
func BenchmarkReplay(b *testing.B) {
	for b.Loop() {
		e, proto := benchEngine(b, benchPeers)
		t := Task{ID: "new", Params: proto.Params}
		e.Observe(t, sim.Epoch{Epoch: 8, ValAcc: 0.69}, now)
	}
}
