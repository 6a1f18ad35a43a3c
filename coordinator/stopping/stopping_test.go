package stopping

import (
	"math"
	"reflect"
	"testing"

	"github.com/sgsweep/sgsweep/protocol"
	"github.com/sgsweep/sgsweep/sim"
	"github.com/sgsweep/sgsweep/sweep"
)

// want is the part of a decision a test expects (DecidedAt, Metric, Mode
// and Group are checked by checkDecision).
type want struct {
	epoch            int
	rule             string
	value, threshold float64
	against          []float64
}

// checkDecision compares d with w (nil w: no decision).
func checkDecision(t *testing.T, e *Engine, task Task, d *protocol.StopDecision, w *want) {
	t.Helper()
	if w == nil {
		if d != nil {
			t.Errorf("decision %s, want none", describeDecision(d))
		}
		return
	}
	if d == nil {
		t.Fatalf("no decision, want %+v", *w)
	}
	wantD := &protocol.StopDecision{
		Epoch: w.epoch, Rule: w.rule, Metric: e.spec.Metric, Mode: e.spec.Mode,
		Value: w.value, Threshold: w.threshold, Group: e.tasks[task.ID].group.key,
		Against: w.against, DecidedAt: now,
	}
	if !reflect.DeepEqual(d, wantD) {
		t.Errorf("decision\n%s\nwant\n%s", describeDecision(d), describeDecision(wantD))
	}
}

func TestChance(t *testing.T) {
	rule := sweep.StopRule{Rule: sweep.RuleChance, After: 3, Margin: 0.125}
	// 4 classes: chance is 0.25, the threshold 0.375.
	tests := []struct {
		name  string
		curve []float64
		want  *want
	}{
		{"before after", []float64{0.25, 0.25}, nil},
		{"at chance from after", []float64{0.25, 0.25, 0.25}, &want{3, "chance", 0.25, 0.375, nil}},
		{"on the threshold (a tie stops)", []float64{0.9, 0.9, 0.375}, &want{3, "chance", 0.375, 0.375, nil}},
		{"just above", []float64{0.25, 0.25, 0.376, 0.4}, nil},
		{"falls back to chance later", []float64{0.5, 0.5, 0.5, 0.3}, &want{4, "chance", 0.3, 0.375, nil}},
		{"not at the last epoch", []float64{0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.25}, nil},
		{"non-finite values decide nothing", []float64{0.5, 0.5, math.NaN(), math.Inf(-1), 0.5}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := New(stopping("val_acc", rule))
			task := newTask(t, defaultCell, 1)
			checkDecision(t, e, task, observeAll(e, task, accCurve(tt.curve...)), tt.want)
		})
	}
	t.Run("chance from classes", func(t *testing.T) {
		e := New(stopping("val_acc", sweep.StopRule{Rule: sweep.RuleChance, After: 1}))
		task := newTask(t, cell{"superspike", 8, 10}, 1)
		checkDecision(t, e, task, observeAll(e, task, accCurve(0.126, 0.125)), &want{2, "chance", 0.125, 0.125, nil})
	})
	t.Run("min mode: cross-entropy of a uniform guess", func(t *testing.T) {
		e := New(stopping("train_loss", rule))
		task := newTask(t, defaultCell, 1)
		ln4 := math.Log(4)
		d := observeAll(e, task, lossCurve(ln4, ln4, ln4-0.2, ln4-0.125+1e-9))
		checkDecision(t, e, task, d, &want{4, "chance", ln4 - 0.125 + 1e-9, ln4 - 0.125, nil})
	})
}

// medianPeers finishes three ok tasks in group superspike whose values at
// epoch 2 are 0.3, 0.4, 0.5 (median 0.4) and at epoch 3 0.5, 0.6, 0.7.
func medianPeers(t *testing.T, e *Engine) {
	e.Finished(newTask(t, defaultCell, 101), protocol.StatusOK, accCurve(0.1, 0.5, 0.6))
	e.Finished(newTask(t, defaultCell, 102), protocol.StatusOK, accCurve(0.1, 0.3, 0.7))
	e.Finished(newTask(t, defaultCell, 103), protocol.StatusDiverged, accCurve(0.1, 0.4, 0.5))
}

func TestMedian(t *testing.T) {
	rule := sweep.StopRule{Rule: sweep.RuleMedian, Warmup: 2, MinTasks: 3}
	tests := []struct {
		name  string
		curve []float64
		want  *want
	}{
		{"worse than the median", []float64{0.2, 0.35}, &want{2, "median", 0.35, 0.4, []float64{0.3, 0.4, 0.5}}},
		{"before warmup", []float64{0.01}, nil},
		{"on the median (a tie continues)", []float64{0.2, 0.4}, nil},
		{"best so far counts", []float64{0.45, 0.35, 0.55}, &want{3, "median", 0.55, 0.6, []float64{0.5, 0.6, 0.7}}},
		{"best so far above the median", []float64{0.45, 0.35}, nil},
		{"no peers at the epoch", []float64{0.2, 0.45, 0.6, 0.0}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := New(stopping("val_acc", rule))
			medianPeers(t, e)
			task := newTask(t, defaultCell, 1)
			checkDecision(t, e, task, observeAll(e, task, accCurve(tt.curve...)), tt.want)
		})
	}
	t.Run("even count: mean of the middle two", func(t *testing.T) {
		e := New(stopping("val_acc", rule))
		medianPeers(t, e)
		e.Finished(newTask(t, defaultCell, 104), protocol.StatusOK, accCurve(0.1, 0.75))
		task := newTask(t, defaultCell, 1)
		checkDecision(t, e, task, observeAll(e, task, accCurve(0.1, 0.44)), &want{2, "median", 0.44, 0.45, []float64{0.3, 0.4, 0.5, 0.75}})
	})
	t.Run("min_tasks not reached", func(t *testing.T) {
		e := New(stopping("val_acc", rule))
		e.Finished(newTask(t, defaultCell, 101), protocol.StatusOK, accCurve(0.1, 0.5))
		e.Finished(newTask(t, defaultCell, 102), protocol.StatusOK, accCurve(0.1, 0.5))
		// Neither stopped, running, failed nor non-finite values are peers.
		e.Finished(newTask(t, defaultCell, 103), protocol.StatusStopped, accCurve(0.1, 0.5))
		e.Finished(newTask(t, defaultCell, 104), protocol.StatusFailed, accCurve(0.1, 0.5))
		e.Finished(newTask(t, defaultCell, 105), protocol.StatusDiverged, accCurve(0.1, math.NaN()))
		e.Observe(newTask(t, defaultCell, 106), accCurve(0.1, 0.5)[1], now)
		task := newTask(t, defaultCell, 1)
		checkDecision(t, e, task, observeAll(e, task, accCurve(0.1, 0.1)), nil)
		// One more completed peer reaches min_tasks.
		e.Finished(newTask(t, defaultCell, 107), protocol.StatusOK, accCurve(0.1, 0.5))
		d := e.Observe(task, accCurve(0.1, 0.1)[1], now)
		checkDecision(t, e, task, d, &want{2, "median", 0.1, 0.5, []float64{0.5, 0.5, 0.5}})
	})
	t.Run("a task finished twice counts once", func(t *testing.T) {
		e := New(stopping("val_acc", rule))
		twice := newTask(t, defaultCell, 101)
		e.Finished(twice, protocol.StatusOK, accCurve(0.1, 0.5))
		e.Finished(twice, protocol.StatusOK, accCurve(0.1, 0.5))
		// A stopped task trained to the end by retry becomes a peer.
		retried := newTask(t, defaultCell, 102)
		e.Finished(retried, protocol.StatusStopped, accCurve(0.1, 0.3))
		e.Finished(retried, protocol.StatusOK, accCurve(0.1, 0.3))
		e.Finished(retried, protocol.StatusOK, accCurve(0.1, 0.3))
		task := newTask(t, defaultCell, 1)
		checkDecision(t, e, task, observeAll(e, task, accCurve(0.1, 0.1)), nil)
		e.Finished(newTask(t, defaultCell, 103), protocol.StatusOK, accCurve(0.1, 0.7))
		d := e.Observe(task, accCurve(0.1, 0.1)[1], now)
		checkDecision(t, e, task, d, &want{2, "median", 0.1, 0.5, []float64{0.3, 0.5, 0.7}})
	})
	t.Run("groups isolate peers", func(t *testing.T) {
		e := New(stopping("val_acc", rule))
		medianPeers(t, e)
		other := newTask(t, cell{"esser", 4, 10}, 1)
		checkDecision(t, e, other, observeAll(e, other, accCurve(0.0, 0.0)), nil)
		if got := e.tasks[other.ID].group.key; got != "surrogate.shape=esser" {
			t.Errorf("group key %q", got)
		}
	})
	t.Run("min mode", func(t *testing.T) {
		e := New(stopping("train_loss", rule))
		e.Finished(newTask(t, defaultCell, 101), protocol.StatusOK, lossCurve(2, 1.0))
		e.Finished(newTask(t, defaultCell, 102), protocol.StatusOK, lossCurve(2, 1.5))
		e.Finished(newTask(t, defaultCell, 103), protocol.StatusOK, lossCurve(2, 0.5))
		task := newTask(t, defaultCell, 1)
		checkDecision(t, e, task, observeAll(e, task, lossCurve(1.25, 1.125)), &want{2, "median", 1.125, 1.0, []float64{0.5, 1.0, 1.5}})
		task = newTask(t, defaultCell, 2)
		checkDecision(t, e, task, observeAll(e, task, lossCurve(0.75, 1.125)), nil)
	})
}

func TestASHA(t *testing.T) {
	// Rungs at epochs 1, 2, 4 and 8; the cut-off is the median of a rung.
	rule := sweep.StopRule{Rule: sweep.RuleASHA, Grace: 1, Reduction: 2}
	t.Run("order of arrival", func(t *testing.T) {
		e := New(stopping("val_acc", rule))
		var tasks []Task
		for i := range 5 {
			tasks = append(tasks, newTask(t, defaultCell, i+1))
		}
		steps := []struct {
			value float64
			want  *want
		}{
			{0.4, nil}, // nothing recorded at rung 1: continue
			{0.2, &want{1, "asha", 0.2, 0.4, []float64{0.4}}},
			{0.6, nil}, // cut-off 0.3
			{0.4, nil}, // cut-off 0.4: a tie continues
			{0.3, &want{1, "asha", 0.3, 0.4, []float64{0.2, 0.4, 0.4, 0.6}}},
		}
		for i, s := range steps {
			checkDecision(t, e, tasks[i], e.Observe(tasks[i], accCurve(s.value)[0], now), s.want)
		}
		// The same values in another order: the task at 0.2 comes first and
		// continues, so ASHA is order-dependent.
		e = New(stopping("val_acc", rule))
		checkDecision(t, e, tasks[1], e.Observe(tasks[1], accCurve(0.2)[0], now), nil)
	})
	t.Run("rungs", func(t *testing.T) {
		e := New(stopping("val_acc", rule))
		e.Finished(newTask(t, defaultCell, 100), protocol.StatusOK, accCurve(0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5))
		task := newTask(t, defaultCell, 1)
		// Epoch 3 is no rung; epoch 4 is, with the finished task's 0.5.
		d := observeAll(e, task, accCurve(0.5, 0.5, 0.1, 0.4))
		checkDecision(t, e, task, d, &want{4, "asha", 0.4, 0.5, []float64{0.5}})
	})
	t.Run("a rung at the last epoch records but does not decide", func(t *testing.T) {
		e := New(stopping("val_acc", rule))
		short := cell{"superspike", 4, 8}
		e.Finished(newTask(t, short, 100), protocol.StatusOK, accCurve(0, 0, 0, 0, 0, 0, 0, 0.9))
		task := newTask(t, short, 1)
		checkDecision(t, e, task, observeAll(e, task, accCurve(0, 0, 0, 0, 0, 0, 0, 0.1)), nil)
		long := newTask(t, defaultCell, 2)
		d := observeAll(e, long, accCurve(0, 0, 0, 0, 0, 0, 0, 0.2))
		checkDecision(t, e, long, d, &want{8, "asha", 0.2, 0.5, []float64{0.1, 0.9}})
	})
	t.Run("quantile of reduction 3", func(t *testing.T) {
		e := New(stopping("val_acc", sweep.StopRule{Rule: sweep.RuleASHA, Grace: 2, Reduction: 3}))
		for i, v := range []float64{0.8, 0.2, 0.6, 0.4} {
			e.Finished(newTask(t, defaultCell, 100+i), protocol.StatusOK, accCurve(0, v))
		}
		// The 2/3 quantile of 0.2, 0.4, 0.6, 0.8 is 0.6 (rank 2 of 0..3).
		task := newTask(t, defaultCell, 1)
		checkDecision(t, e, task, observeAll(e, task, accCurve(0.9, 0.5)), &want{2, "asha", 0.5, 0.6, []float64{0.2, 0.4, 0.6, 0.8}})
		task = newTask(t, defaultCell, 2)
		checkDecision(t, e, task, observeAll(e, task, accCurve(0.0, 0.6)), nil)
	})
	t.Run("min mode", func(t *testing.T) {
		e := New(stopping("train_loss", sweep.StopRule{Rule: sweep.RuleASHA, Grace: 1, Reduction: 4}))
		for i, v := range []float64{5, 1, 4, 2, 3} {
			e.Finished(newTask(t, defaultCell, 100+i), protocol.StatusOK, lossCurve(v))
		}
		// The 1/4 quantile of 1..5 is 2: only losses ≤ 2 continue.
		task := newTask(t, defaultCell, 1)
		checkDecision(t, e, task, e.Observe(task, lossCurve(2.5)[0], now), &want{1, "asha", 2.5, 2, []float64{1, 2, 3, 4, 5}})
		task = newTask(t, defaultCell, 2)
		checkDecision(t, e, task, e.Observe(task, lossCurve(2)[0], now), nil)
	})
	t.Run("groups isolate peers", func(t *testing.T) {
		e := New(stopping("val_acc", rule))
		e.Finished(newTask(t, defaultCell, 100), protocol.StatusOK, accCurve(0.9))
		task := newTask(t, cell{"esser", 4, 10}, 1)
		checkDecision(t, e, task, e.Observe(task, accCurve(0.1)[0], now), nil)
	})
	t.Run("a redelivered task records its value once", func(t *testing.T) {
		e := New(stopping("val_acc", rule))
		first := newTask(t, defaultCell, 1)
		e.Observe(first, accCurve(0.6)[0], now)
		e.Observe(first, accCurve(0.6)[0], now) // trained again from the start
		e.Finished(first, protocol.StatusOK, accCurve(0.6, 0.6))
		task := newTask(t, defaultCell, 2)
		checkDecision(t, e, task, e.Observe(task, accCurve(0.5)[0], now), &want{1, "asha", 0.5, 0.6, []float64{0.6}})
	})
}

func TestRulesInOrder(t *testing.T) {
	chance := sweep.StopRule{Rule: sweep.RuleChance, After: 1, Margin: 0.125}
	asha := sweep.StopRule{Rule: sweep.RuleASHA, Grace: 1, Reduction: 2}
	e := New(stopping("val_acc", asha, chance))
	e.Finished(newTask(t, defaultCell, 100), protocol.StatusOK, accCurve(0.5))
	task := newTask(t, defaultCell, 1)
	// Both fire; asha comes first.
	checkDecision(t, e, task, e.Observe(task, accCurve(0.25)[0], now), &want{1, "asha", 0.25, 0.5, []float64{0.5}})
	e = New(stopping("val_acc", chance, asha))
	e.Finished(newTask(t, defaultCell, 100), protocol.StatusOK, accCurve(0.5))
	checkDecision(t, e, task, e.Observe(task, accCurve(0.25)[0], now), &want{1, "chance", 0.25, 0.375, nil})
	// A chance decision still records the value at the rung.
	next := newTask(t, defaultCell, 2)
	checkDecision(t, e, next, e.Observe(next, accCurve(0.4)[0], now), nil) // cut-off: median of 0.25, 0.5
}

func TestOneDecisionPerTask(t *testing.T) {
	e := New(stopping("val_acc", sweep.StopRule{Rule: sweep.RuleChance, After: 1}))
	task := newTask(t, defaultCell, 1)
	if d := e.Observe(task, accCurve(0.1)[0], now); d == nil {
		t.Fatal("no decision at chance")
	}
	for _, ep := range accCurve(0.1, 0.1, 0.1) {
		if d := e.Observe(task, ep, now); d != nil {
			t.Errorf("second decision %s", describeDecision(d))
		}
	}
	committed := newTask(t, defaultCell, 2)
	e.Decided(committed, &protocol.StopDecision{Epoch: 1, Rule: "chance"})
	if d := observeAll(e, committed, accCurve(0.1, 0.1)); d != nil {
		t.Errorf("decision %s after Decided", describeDecision(d))
	}
	stopped := newTask(t, defaultCell, 3)
	e.Finished(stopped, protocol.StatusStopped, accCurve(0.1))
	if d := observeAll(e, stopped, accCurve(0.1, 0.1)); d != nil {
		t.Errorf("decision %s for a finished task", describeDecision(d))
	}
}

func TestNoStopping(t *testing.T) {
	e := New(nil)
	task := newTask(t, defaultCell, 1)
	e.Finished(task, protocol.StatusOK, accCurve(0.1))
	e.Decided(task, nil)
	if d := e.Observe(newTask(t, defaultCell, 2), accCurve(0.0)[0], now); d != nil {
		t.Errorf("engine without rules decided %s", describeDecision(d))
	}
}

// TestRestart replays a history into a new engine the way the coordinator
// does on restart (Finished for each stored result in commit order,
// Decided for each committed decision) and checks that it then decides as
// the engine that ran throughout.
func TestRestart(t *testing.T) {
	spec := stopping("val_acc",
		sweep.StopRule{Rule: sweep.RuleChance, After: 2, Margin: 0.05},
		sweep.StopRule{Rule: sweep.RuleMedian, Warmup: 3, MinTasks: 2},
		sweep.StopRule{Rule: sweep.RuleASHA, Grace: 2, Reduction: 2})
	curves := [][]float64{
		{0.3, 0.5, 0.6, 0.7, 0.75, 0.8, 0.8, 0.8, 0.8, 0.8},
		{0.3, 0.4, 0.5, 0.6, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7},
		{0.3, 0.28, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25}, // chance at 2
		{0.3, 0.45, 0.5, 0.52, 0.53, 0.6, 0.6, 0.6, 0.6, 0.6},       // median at 4
		{0.3, 0.6, 0.7, 0.8, 0.85, 0.9, 0.9, 0.9, 0.9, 0.9},
		{0.3, 0.5, 0.55, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6},
		{0.3, 0.42, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5},
	}
	tasks := make([]Task, len(curves))
	for i := range curves {
		tasks[i] = newTask(t, defaultCell, i+1)
	}
	// run trains task i to its end or its decision, as a worker would, and
	// reports its result.
	run := func(e *Engine, i int) *protocol.StopDecision {
		curve := accCurve(curves[i]...)
		for n, ep := range curve {
			if d := e.Observe(tasks[i], ep, now); d != nil {
				e.Finished(tasks[i], protocol.StatusStopped, curve[:n+1])
				return d
			}
		}
		e.Finished(tasks[i], protocol.StatusOK, curve)
		return nil
	}
	const cut = 4
	whole := New(spec)
	var decisions []*protocol.StopDecision
	for i := range tasks {
		decisions = append(decisions, run(whole, i))
	}
	// Before the cut: asha stops task 1 and 3, chance task 2; after it,
	// median stops task 5 and asha task 6, against values of tasks
	// stopped before the cut.
	for i, rule := range map[int]string{1: "asha", 2: "chance", 3: "asha", 5: "median", 6: "asha"} {
		if decisions[i] == nil || decisions[i].Rule != rule {
			t.Fatalf("task %d: %s, want a decision by %s", i, describeDecision(decisions[i]), rule)
		}
	}
	restarted := New(spec)
	for i := range cut {
		n := len(curves[i])
		status := protocol.StatusOK
		if d := decisions[i]; d != nil {
			restarted.Decided(tasks[i], d)
			n, status = d.Epoch, protocol.StatusStopped
		}
		restarted.Finished(tasks[i], status, accCurve(curves[i][:n]...))
	}
	for i := cut; i < len(tasks); i++ {
		if got := run(restarted, i); !reflect.DeepEqual(got, decisions[i]) {
			t.Errorf("task %d after restart: %s, want %s", i, describeDecision(got), describeDecision(decisions[i]))
		}
	}
	for i := range cut {
		if d := restarted.Observe(tasks[i], accCurve(curves[i]...)[2], now); d != nil {
			t.Errorf("task %d, finished before the restart, got decision %s", i, describeDecision(d))
		}
	}
}

func TestMetricValue(t *testing.T) {
	ep := sim.Epoch{Epoch: 1, TrainLoss: 2, TrainAcc: 0.5, ValAcc: 0.25}
	for metric, want := range map[string]float64{"train_loss": 2, "train_acc": 0.5, "val_acc": 0.25} {
		if v, ok := MetricValue(metric, ep); !ok || v != want {
			t.Errorf("MetricValue(%s) = %v, %v; want %v", metric, v, ok, want)
		}
	}
	if _, ok := MetricValue("test_acc", ep); ok {
		t.Error("MetricValue(test_acc) is ok")
	}
}

// TestParsedSpec runs the engine of a parsed spec on its expanded tasks:
// the group keys and chance levels come from the tasks' real params.
func TestParsedSpec(t *testing.T) {
	spec, err := sweep.Parse("s.yaml", []byte(`name: s
base: {train.epochs: 10, dataset.classes: 4}
grid:
  surrogate.shape: [superspike, esser]
  network.reset: [detached, differentiable]
stopping:
  metric: val_acc
  rules: [{rule: chance, after: 2, margin: 0.125}]
  group: [surrogate.shape, network.reset]
`))
	if err != nil {
		t.Fatal(err)
	}
	tasks, err := spec.Expand()
	if err != nil {
		t.Fatal(err)
	}
	e := New(spec.Stopping())
	var groups []string
	for _, st := range tasks {
		task := Task{ID: st.ID, Params: st.Params}
		d := observeAll(e, task, accCurve(0.25, 0.375, 0.5))
		checkDecision(t, e, task, d, &want{2, "chance", 0.375, 0.375, nil})
		groups = append(groups, d.Group)
	}
	want := []string{
		"network.reset=detached surrogate.shape=superspike",
		"network.reset=differentiable surrogate.shape=superspike",
		"network.reset=detached surrogate.shape=esser",
		"network.reset=differentiable surrogate.shape=esser",
	}
	if !reflect.DeepEqual(groups, want) {
		t.Errorf("groups %q, want %q", groups, want)
	}
}
