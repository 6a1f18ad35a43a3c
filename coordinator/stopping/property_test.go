package stopping

import (
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/sgsweep/sgsweep/protocol"
	"github.com/sgsweep/sgsweep/sim"
	"github.com/sgsweep/sgsweep/sweep"
)

func TestValuesAscending(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 200 {
		var v values
		var all []float64
		for range rng.IntN(300) {
			x := float64(rng.IntN(20)) / 4 // many ties
			v.add(x)
			all = append(all, x)
			if rng.IntN(7) == 0 {
				got := v.ascending()
				want := slices.Sorted(slices.Values(all))
				if !slices.Equal(got, want) || v.len() != len(all) {
					t.Fatalf("trial %d: ascending() = %v, want %v", trial, got, want)
				}
			}
		}
		if got, want := v.ascending(), slices.Sorted(slices.Values(all)); !slices.Equal(got, want) {
			t.Fatalf("trial %d: ascending() = %v, want %v", trial, got, want)
		}
	}
}

func TestQuantile(t *testing.T) {
	tests := []struct {
		s        []float64
		num, den int
		want     float64
	}{
		{[]float64{3}, 1, 2, 3},
		{[]float64{1, 2, 3}, 1, 2, 2},
		{[]float64{1, 2, 3, 4}, 1, 2, 2.5},
		{[]float64{1, 2, 3, 4}, 2, 3, 3},                  // position 2
		{[]float64{1, 2, 3, 4, 5, 6, 7}, 2, 3, 5},         // position 4
		{[]float64{0, 3, 6}, 2, 3, 4},                     // position 4/3
		{[]float64{1, 2, 3, 4, 5}, 1, 4, 2},               // position 1
		{[]float64{1, 2, 3, 4, 5, 6}, 3, 4, 4.75},         // position 3.75
		{[]float64{0.1, 0.1, 0.1, 0.1}, 1, 3, 0.1},        // ties are exact
		{[]float64{-1, 0, 1}, 0, 1, -1},                   // the minimum
		{[]float64{-1, 0, 1}, 1, 1, 1},                    // the maximum
		{[]float64{1, 2}, 0, 2, 1},                        // num 0
		{[]float64{1e300, 1.5e300}, 1, 2, 1.25e300},       // no overflow
		{[]float64{0.25, 0.5, 0.75, 1.0}, 1, 2, 0.625},    // dyadic
		{[]float64{2, 4, 8, 16, 32, 64, 128}, 5, 6, 64},   // position 5
		{[]float64{2, 4, 8, 16, 32, 64, 128}, 11, 12, 96}, // position 5.5
	}
	for _, tt := range tests {
		if got := quantile(tt.s, tt.num, tt.den); got != tt.want {
			t.Errorf("quantile(%v, %d/%d) = %v, want %v", tt.s, tt.num, tt.den, got, tt.want)
		}
	}
	// Properties on random data: within the neighbouring ranks, monotone
	// in the fraction, close to the floating-point interpolation.
	rng := rand.New(rand.NewPCG(3, 4))
	for range 1000 {
		s := make([]float64, 1+rng.IntN(50))
		for i := range s {
			s[i] = rng.NormFloat64()
		}
		slices.Sort(s)
		den := 1 + rng.IntN(10)
		prev := math.Inf(-1)
		for num := 0; num <= den; num++ {
			q := quantile(s, num, den)
			pos := float64(len(s)-1) * float64(num) / float64(den)
			lo, hi := s[int(math.Floor(pos))], s[int(math.Ceil(pos))]
			ref := lo + (hi-lo)*(pos-math.Floor(pos))
			if q < lo || q > hi || q < prev || math.Abs(q-ref) > 1e-12 {
				t.Fatalf("quantile(%v, %d/%d) = %v: want in [%v, %v], ≥ %v, ≈ %v", s, num, den, q, lo, hi, prev, ref)
			}
			prev = q
		}
	}
}

func TestRungOf(t *testing.T) {
	r := sweep.StopRule{Rule: sweep.RuleASHA, Grace: 3, Reduction: 3}
	for epoch := -1; epoch <= 100; epoch++ {
		k, ok := rungOf(r, epoch)
		want := map[int]int{3: 0, 9: 1, 27: 2, 81: 3}
		if wk, wok := want[epoch]; ok != wok || k != wk {
			t.Errorf("rungOf(grace 3, reduction 3, %d) = %d, %v; want %d, %v", epoch, k, ok, wk, wok)
		}
	}
	if _, ok := rungOf(sweep.StopRule{Grace: 1 << 40, Reduction: 1 << 30}, math.MaxInt); ok {
		t.Error("rungOf overflowed into a rung")
	}
}

// simTask is a task of a simulated sweep with the curve it would train.
type simTask struct {
	task   Task
	status string // ok or diverged, if trained to the end
	curve  []sim.Epoch
}

// event is one call the coordinator makes on committing something:
// Decided or Finished, in commit order.
type event struct {
	task     Task
	decision *protocol.StopDecision // Decided, when not nil
	status   string                 // else Finished
	curve    []sim.Epoch
}

// randomTasks returns n tasks in the groups superspike and esser with
// random val_acc curves on a 1/32 grid (so that ties happen), some
// diverging (a NaN, then the end).
func randomTasks(t testing.TB, rng *rand.Rand, n int) []simTask {
	var out []simTask
	for i := range n {
		c := cell{[]string{"superspike", "esser"}[rng.IntN(2)], 4, 6 + rng.IntN(10)}
		st := simTask{task: newTask(t, c, i+1), status: protocol.StatusOK}
		acc, rate := 0.25, rng.Float64()*0.1-0.02
		for e := 1; e <= c.epochs; e++ {
			acc = math.Min(1, math.Max(0, acc+rate+rng.NormFloat64()*0.03))
			v := math.Round(acc*32) / 32
			if rng.IntN(40) == 0 {
				v, st.status = math.NaN(), protocol.StatusDiverged
			}
			st.curve = append(st.curve, sim.Epoch{Epoch: e, ValAcc: v})
			if st.status == protocol.StatusDiverged {
				break
			}
		}
		out = append(out, st)
	}
	return out
}

// runWave trains the tasks concurrently, their epochs interleaved in an
// order drawn from rng, each until its end or its decision, and returns
// the decisions by task ID and the events committed, in order.
func runWave(e *Engine, tasks []simTask, rng *rand.Rand) (map[string]*protocol.StopDecision, []event) {
	decisions := map[string]*protocol.StopDecision{}
	var events []event
	next := make([]int, len(tasks)) // next epoch index per task
	running := make([]int, len(tasks))
	for i := range running {
		running[i] = i
	}
	for len(running) > 0 {
		j := rng.IntN(len(running))
		i := running[j]
		st := tasks[i]
		n := next[i]
		next[i]++
		d := e.Observe(st.task, st.curve[n], now)
		var ev *event
		switch {
		case d != nil:
			decisions[st.task.ID] = d
			events = append(events, event{task: st.task, decision: d})
			ev = &event{task: st.task, status: protocol.StatusStopped, curve: st.curve[:n+1]}
		case next[i] == len(st.curve):
			ev = &event{task: st.task, status: st.status, curve: st.curve}
		default:
			continue
		}
		e.Finished(ev.task, ev.status, ev.curve)
		events = append(events, *ev)
		running = slices.Delete(running, j, j+1)
	}
	return decisions, events
}

var allRules = []sweep.StopRule{
	{Rule: sweep.RuleChance, After: 2, Margin: 0.03125},
	{Rule: sweep.RuleMedian, Warmup: 3, MinTasks: 3},
	{Rule: sweep.RuleASHA, Grace: 2, Reduction: 2},
}

// TestDecisionInvariants checks every decision of random sweeps: it is
// the task's first and only, taken before its last epoch and not before
// its rule applies, its peers' values ascending, its threshold computed
// from them, and its value not better than its threshold.
func TestDecisionInvariants(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for trial := range 20 {
		e := New(stopping("val_acc", allRules...))
		tasks := randomTasks(t, rng, 60)
		epochs := map[string]int{}
		for _, st := range tasks {
			epochs[st.task.ID] = e.task(st.task).epochs
		}
		all := map[string]*protocol.StopDecision{}
		for wave := range slices.Chunk(tasks, 12) {
			decisions, _ := runWave(e, wave, rng)
			for id, d := range decisions {
				if all[id] != nil {
					t.Fatalf("trial %d: task %s decided twice", trial, id)
				}
				all[id] = d
			}
		}
		rules := map[string]int{}
		for id, d := range all {
			rules[d.Rule]++
			if d.Epoch >= epochs[id] || !slices.IsSorted(d.Against) || e.better(d.Value, d.Threshold) || d.Group == "" {
				t.Errorf("trial %d: bad decision %s (task of %d epochs)", trial, describeDecision(d), epochs[id])
			}
			switch d.Rule {
			case sweep.RuleChance:
				if d.Epoch < 2 || d.Threshold != 0.25+0.03125 || d.Against != nil {
					t.Errorf("trial %d: bad chance decision %s", trial, describeDecision(d))
				}
			case sweep.RuleMedian:
				if d.Epoch < 3 || len(d.Against) < 3 || d.Threshold != quantile(d.Against, 1, 2) || d.Value == d.Threshold {
					t.Errorf("trial %d: bad median decision %s", trial, describeDecision(d))
				}
			case sweep.RuleASHA:
				if _, rung := rungOf(allRules[2], d.Epoch); !rung || len(d.Against) == 0 || d.Threshold != quantile(d.Against, 1, 2) || d.Value == d.Threshold {
					t.Errorf("trial %d: bad asha decision %s", trial, describeDecision(d))
				}
			}
		}
		if trial == 0 && (rules["chance"] == 0 || rules["median"] == 0 || rules["asha"] == 0) {
			t.Errorf("the random sweep exercises too few rules: %v", rules)
		}
	}
}

// TestChanceOrderIndependent checks that the chance rule's decisions do not
// depend on the order the tasks report in, nor on other tasks.
func TestChanceOrderIndependent(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	spec := stopping("val_acc", allRules[0])
	tasks := randomTasks(t, rng, 100)
	first, _ := runWave(New(spec), tasks, rng)
	second, _ := runWave(New(spec), tasks, rng)
	if len(first) == 0 {
		t.Fatal("no chance decision in the random sweep")
	}
	if !reflect.DeepEqual(first, second) {
		t.Errorf("chance decisions depend on the order: %d vs %d", len(first), len(second))
	}
	for _, st := range tasks {
		alone, _ := runWave(New(spec), []simTask{st}, rng)
		if !reflect.DeepEqual(alone[st.task.ID], first[st.task.ID]) {
			t.Errorf("task alone: %s, among others: %s", describeDecision(alone[st.task.ID]), describeDecision(first[st.task.ID]))
		}
	}
}

// TestRestartReplay checks on random sweeps that an engine fed the
// committed events of the waves before a restart decides the later waves
// as the engine that ran throughout.
func TestRestartReplay(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for trial := range 10 {
		tasks := randomTasks(t, rng, 48)
		waves := slices.Collect(slices.Chunk(tasks, 8))
		seeds := make([]uint64, len(waves))
		for i := range seeds {
			seeds[i] = rng.Uint64()
		}
		cut := 1 + rng.IntN(len(waves)-1)
		whole := New(stopping("val_acc", allRules...))
		var before []event
		var want []map[string]*protocol.StopDecision
		for w, wave := range waves {
			d, events := runWave(whole, wave, rand.New(rand.NewPCG(seeds[w], 0)))
			if w < cut {
				before = append(before, events...)
			} else {
				want = append(want, d)
			}
		}
		restarted := New(stopping("val_acc", allRules...))
		for _, ev := range before {
			if ev.decision != nil {
				restarted.Decided(ev.task, ev.decision)
			} else {
				restarted.Finished(ev.task, ev.status, ev.curve)
			}
		}
		for w := cut; w < len(waves); w++ {
			got, _ := runWave(restarted, waves[w], rand.New(rand.NewPCG(seeds[w], 0)))
			if !reflect.DeepEqual(got, want[w-cut]) {
				t.Errorf("trial %d, wave %d after a restart at wave %d: %d decisions differ from %d", trial, w, cut, len(got), len(want[w-cut]))
			}
		}
	}
}
