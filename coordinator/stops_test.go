package coordinator_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sgsweep/sgsweep/coordinator"
	"github.com/sgsweep/sgsweep/coordinator/coordtest"
	"github.com/sgsweep/sgsweep/protocol"
	"github.com/sgsweep/sgsweep/results"
	"github.com/sgsweep/sgsweep/results/store"
	"github.com/sgsweep/sgsweep/sweep"
)

// The tests of early stopping act as the workers: they take the task
// messages, send progress requests and publish results over a real NATS
// server, so that they check the coordinator's side alone. Decisions come
// from coordtest.StopRule (stop after epoch 2 or later at val_acc ≤ 0.3).

const stopEpochs = 4 // epochs of the tasks of stopSpec

// stopSpec writes a spec of n tasks of stopEpochs epochs.
func stopSpec(t *testing.T, dir, name string, n int) (string, []sweep.Task) {
	t.Helper()
	path := coordtest.Spec(t, dir, name, n, nil, fmt.Sprintf("grid:\n  train.epochs: [%d]\n", stopEpochs))
	_, tasks := coordtest.Expand(t, path)
	return path, tasks
}

func stopRule() *coordtest.StopRule { return &coordtest.StopRule{After: 2, Threshold: 0.3} }

// newStopEnv starts a coordinator deciding by rule.
func newStopEnv(t *testing.T, rule *coordtest.StopRule) *coordtest.Env {
	cfg := coordtest.CoordinatorConfig()
	cfg.NewDecider = rule.NewDecider
	return coordtest.NewEnv(t, cfg)
}

// takeTasks takes n task messages from the worker consumer and acks them,
// as workers that run them do; it returns them by task ID.
func takeTasks(t *testing.T, e *coordtest.Env, n int) map[string]*protocol.TaskMsg {
	t.Helper()
	ctx := context.Background()
	cons, err := e.JS.Consumer(ctx, protocol.StreamTasks, protocol.ConsumerWorkers)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*protocol.TaskMsg{}
	deadline := time.Now().Add(10 * time.Second)
	for len(out) < n && time.Now().Before(deadline) {
		batch, err := cons.Fetch(n-len(out), jetstream.FetchMaxWait(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for m := range batch.Messages() {
			msg, err := protocol.DecodeTask(m.Data())
			if err != nil {
				t.Fatal(err)
			}
			out[msg.TaskID] = msg
			if err := m.Ack(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(out) != n {
		t.Fatalf("took %d task messages, want %d", len(out), n)
	}
	return out
}

// ask sends task's progress after the last epoch of curve as a request.
func ask(t *testing.T, nc *nats.Conn, sweepName string, task sweep.Task, curve int, acc float64) *protocol.StopDecision {
	t.Helper()
	r, err := coordtest.AskProgress(nc, sweepName, task.ID, stopEpochs, coordtest.Curve(curve, acc), 10*time.Second)
	if err != nil {
		t.Fatalf("progress request of task %s after epoch %d: %v", task.ID, curve, err)
	}
	return r.Stop
}

// sameStop compares decisions (DecidedAt as an instant).
func sameStop(a, b *protocol.StopDecision) bool {
	if a == nil || b == nil {
		return a == b
	}
	x, y := *a, *b
	x.DecidedAt, y.DecidedAt = time.Time{}, time.Time{}
	xj, _ := json.Marshal(x)
	yj, _ := json.Marshal(y)
	return a.DecidedAt.Equal(b.DecidedAt) && string(xj) == string(yj)
}

// decisions reads a sweep's committed decisions by task ID.
func decisions(t *testing.T, st *store.Store, name string) map[string]store.StopRecord {
	t.Helper()
	out := map[string]store.StopRecord{}
	err := st.StopDecisions(context.Background(), name, func(r store.StopRecord) error {
		out[r.TaskID] = r
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Progress requests are answered whether or not anyone watches events;
// a decision is committed before the reply that carries it, and once
// committed it is the answer to every later request of the task.
func TestStopDecisions(t *testing.T) {
	rule := stopRule()
	e := newStopEnv(t, rule)
	path, tasks := stopSpec(t, e.Dir, "stops", 4)
	if _, err := e.Submit(path, false); err != nil {
		t.Fatal(err)
	}
	for id, m := range takeTasks(t, e, 4) {
		if !m.Stopping {
			t.Errorf("task %s published without Stopping", id)
		}
	}

	if d := ask(t, e.NC, "stops", tasks[0], 1, 0.1); d != nil {
		t.Errorf("decision before the rule applies: %+v", d)
	}
	d0 := ask(t, e.NC, "stops", tasks[0], 2, 0.1)
	// Read as soon as the reply is in: the decision must be stored.
	stored := decisions(t, e.Store, "stops")
	if d0 == nil || d0.Epoch != 2 || d0.Rule != protocol.RuleChance || d0.Value != 0.1 {
		t.Fatalf("decision after a hopeless epoch 2: %+v, want a stop after epoch 2", d0)
	}
	if r, ok := stored[tasks[0].ID]; !ok || !sameStop(&r.Decision, d0) {
		t.Fatalf("when the reply arrived the store held %+v, want the decision replied %+v", stored, d0)
	}
	// Later requests get the same decision, whatever the values.
	if d := ask(t, e.NC, "stops", tasks[0], 3, 0.9); !sameStop(d, d0) {
		t.Errorf("after epoch 3: %+v, want the committed %+v", d, d0)
	}
	for epoch := 1; epoch <= stopEpochs; epoch++ {
		if d := ask(t, e.NC, "stops", tasks[1], epoch, 0.9); d != nil {
			t.Errorf("a good task stopped after epoch %d: %+v", epoch, d)
		}
	}
	// A task no sweep plans, and one of another sweep, go on; an
	// undecodable request, or one on another task's subject, gets no
	// answer.
	ghost := sweep.Task{ID: strings.Repeat("ab", 16)}
	if d := ask(t, e.NC, "stops", ghost, 3, 0.1); d != nil {
		t.Errorf("a decision for an unplanned task: %+v", d)
	}
	if _, err := e.NC.Request(protocol.ProgressSubject("stops", tasks[2].ID), []byte("{"), 300*time.Millisecond); err == nil {
		t.Error("an undecodable progress request was answered")
	}
	p, _ := json.Marshal(protocol.ProgressMsg{Schema: protocol.SchemaProgress, Sweep: "stops", TaskID: tasks[3].ID,
		Worker: "x/1", Attempt: 1, Epochs: stopEpochs, Epoch: coordtest.Curve(2, 0.1)[1]})
	if _, err := e.NC.Request(protocol.ProgressSubject("stops", tasks[2].ID), p, 300*time.Millisecond); err == nil {
		t.Error("a progress request on another task's subject was answered")
	}
	if got := decisions(t, e.Store, "stops"); len(got) != 1 {
		t.Errorf("decisions %+v, want task 0's only", got)
	}

	// Extended by a fifth task: the decision stands, the new task's
	// message carries Stopping too.
	path, more := stopSpec(t, e.Dir, "stops", 5)
	if rep, err := e.Submit(path, true); err != nil || rep.Outcome != store.PlanExtended {
		t.Fatalf("extend: %+v, %v", rep, err)
	}
	var added sweep.Task
	for _, tk := range more {
		if !slices.ContainsFunc(tasks, func(o sweep.Task) bool { return o.ID == tk.ID }) {
			added = tk
		}
	}
	if m := takeTasks(t, e, 1)[added.ID]; m == nil || !m.Stopping {
		t.Errorf("the added task's message: %+v, want one with Stopping", m)
	}
	if d := ask(t, e.NC, "stops", tasks[0], 3, 0.9); !sameStop(d, d0) {
		t.Errorf("after the extension: %+v, want the committed %+v", d, d0)
	}
}

// stoppedSweep runs a sweep of 4 tasks by hand: tasks 0 and 3 are stopped
// after epoch 2 (their stopped results stored), 1 and 2 trained to the end.
// Results that would contradict a decision are rejected on the way.
func stoppedSweep(t *testing.T, e *coordtest.Env, name string) ([]sweep.Task, map[int]*protocol.StopDecision) {
	t.Helper()
	path, tasks := stopSpec(t, e.Dir, name, 4)
	if _, err := e.Submit(path, false); err != nil {
		t.Fatal(err)
	}
	takeTasks(t, e, 4)
	d := map[int]*protocol.StopDecision{}
	for _, i := range []int{0, 3} {
		ask(t, e.NC, name, tasks[i], 1, 0.1)
		if d[i] = ask(t, e.NC, name, tasks[i], 2, 0.1); d[i] == nil {
			t.Fatalf("task %d not stopped", i)
		}
	}
	other := *d[3]
	other.Epoch = 3
	publish := func(i int, status string, n int, acc float64, stop *protocol.StopDecision) {
		coordtest.PublishResult(t, e.JS, name, tasks[i].ID,
			coordtest.ResultData(t, name, tasks[i], status, coordtest.Curve(n, acc), stop))
	}
	publish(0, protocol.StatusStopped, 2, 0.1, d[0])
	publish(1, protocol.StatusOK, stopEpochs, 0.9, nil)
	publish(2, protocol.StatusStopped, 3, 0.2, &other) // no decision for task 2
	publish(3, protocol.StatusStopped, 3, 0.1, &other) // not task 3's decision
	coordtest.WaitFor(t, 10*time.Second, "two results stored, two rejected", func() bool {
		info, _ := e.Store.Sweep(context.Background(), name)
		_, rejected, _ := e.Store.Rejected(context.Background(), 0)
		return info.Stopped == 1 && info.Done == 1 && rejected == 2
	})
	rejected, _, _ := e.Store.Rejected(context.Background(), 0)
	if !strings.Contains(rejected[0].Reason, "committed no stop decision") ||
		!strings.Contains(rejected[1].Reason, "differs from the committed one") {
		t.Errorf("rejections: %q, %q", rejected[0].Reason, rejected[1].Reason)
	}
	publish(2, protocol.StatusOK, stopEpochs, 0.5, nil)
	publish(3, protocol.StatusStopped, 2, 0.1, d[3])
	info := e.WaitSweep(name, store.SweepDone, 10*time.Second)
	if info.Done != 2 || info.Stopped != 2 || info.Failed != 0 || info.Pending != 0 {
		t.Errorf("sweep %+v, want 2 done, 2 stopped", info)
	}
	return tasks, d
}

// Stopped results are stored as stopped and counted apart; the decider is
// told of every finished task and, after a restart, of every decision; the
// same command resumes the sweep without running anything again.
func TestStoppedResultsAndResume(t *testing.T) {
	ctx := context.Background()
	rule := stopRule()
	e := newStopEnv(t, rule)
	tasks, d := stoppedSweep(t, e, "resume")

	recs := e.Records("resume")
	for _, i := range []int{0, 3} {
		r := recs[i]
		if r.State != results.StateStopped || r.Result == nil || r.Result.Status != protocol.StatusStopped ||
			!sameStop(r.Result.Stop, d[i]) || !sameStop(r.Stop, d[i]) || len(r.Result.Result.Epochs) != 2 {
			t.Errorf("record %d: %+v, want stopped after epoch 2 with its decision", i, r)
		}
	}
	if recs[1].State != results.StateDone || recs[1].Stop != nil {
		t.Errorf("record 1: %+v, want done without a decision", recs[1])
	}
	// A redelivered stopped task is not trained again.
	if has, err := coordinator.NewClient(e.NC).HasResult(ctx, tasks[0].ID); err != nil || !has.Done ||
		has.State != results.StateStopped {
		t.Errorf("has-result of a stopped task: %+v (err %v), want done, stopped", has, err)
	}
	// A request of an unplanned task makes the coordinator feed the
	// decider what was committed since. The last result is queued for the
	// decider just after its commit, which the sweep's state shows: ask
	// until it is there.
	want := map[string]string{tasks[0].ID: protocol.StatusStopped, tasks[1].ID: protocol.StatusOK,
		tasks[2].ID: protocol.StatusOK, tasks[3].ID: protocol.StatusStopped}
	var finished map[string]string
	for range 50 {
		ask(t, e.NC, "resume", sweep.Task{ID: strings.Repeat("cd", 16)}, 2, 0.1)
		if finished, _, _ = rule.Told(); len(finished) == len(want) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if fmt.Sprint(finished) != fmt.Sprint(want) {
		t.Errorf("the decider was told of finished tasks %v, want %v", finished, want)
	}

	// A restarted coordinator resumes the sweep: nothing is published,
	// the decisions stand, and its decider learns them from the store.
	e.StopCoordinator()
	rule2 := stopRule()
	cfg := coordtest.CoordinatorConfig()
	cfg.NewDecider = rule2.NewDecider
	e.StartCoordinator(cfg)
	rep, err := e.Submit(filepath.Join(e.Dir, "resume.yaml"), false)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Outcome != store.PlanResumed || rep.Stopped != 2 || rep.Done != 2 || rep.Pending != 0 {
		t.Errorf("resubmitted: %+v, want resumed with 2 stopped, 2 done", rep)
	}
	for _, i := range []int{0, 3} {
		if got := ask(t, e.NC, "resume", tasks[i], 3, 0.9); !sameStop(got, d[i]) {
			t.Errorf("task %d after the restart: %+v, want its decision %+v", i, got, d[i])
		}
	}
	ask(t, e.NC, "resume", sweep.Task{ID: strings.Repeat("cd", 16)}, 2, 0.1)
	finished, decided, _ := rule2.Told()
	if fmt.Sprint(finished) != fmt.Sprint(want) || len(decided) != 2 || !sameStop(decided[tasks[0].ID], d[0]) ||
		!sameStop(decided[tasks[3].ID], d[3]) {
		t.Errorf("after the restart the decider was told finished %v, decided %v", finished, decided)
	}
	time.Sleep(200 * time.Millisecond) // a publish pass would have run
	if st := e.Coord.Stats(); st.Published != 0 {
		t.Errorf("the resumed sweep published %d tasks", st.Published)
	}
	if msgs, _, err := e.Store.ToPublish(ctx, "resume", 0, 10); err != nil || len(msgs) != 0 {
		t.Errorf("to publish after resuming: %d (err %v)", len(msgs), err)
	}
	e.WantDrained()
}

// retry --stopped trains the stopped tasks to the end: their messages ask
// for no decision, the decisions stay (overridden), the stopped results
// are kept aside, and the full results settle the tasks as done.
func TestRetryStopped(t *testing.T) {
	ctx := context.Background()
	e := newStopEnv(t, stopRule())
	tasks, d := stoppedSweep(t, e, "again")
	rep, err := coordinator.NewClient(e.NC).Retry(ctx, coordinator.RetryRequest{Sweep: "again", Stopped: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Stopped != 2 || rep.Retried != 0 {
		t.Errorf("retry --stopped: %+v, want 2 stopped tasks queued again", rep)
	}
	msgs := takeTasks(t, e, 2)
	for _, i := range []int{0, 3} {
		m := msgs[tasks[i].ID]
		if m == nil || m.Stopping || m.Gen != 1 {
			t.Errorf("task %d published again as %+v, want gen 1 without Stopping", i, m)
		}
		// A stale request of the task gets no decision.
		if got := ask(t, e.NC, "again", tasks[i], 3, 0.1); got != nil {
			t.Errorf("task %d, overridden: decision %+v", i, got)
		}
	}
	stops := decisions(t, e.Store, "again")
	for _, i := range []int{0, 3} {
		if r := stops[tasks[i].ID]; r.Overridden.IsZero() || !sameStop(&r.Decision, d[i]) {
			t.Errorf("task %d's decision after the retry: %+v, want kept and overridden", i, r)
		}
	}
	for _, i := range []int{0, 3} {
		coordtest.PublishResult(t, e.JS, "again", tasks[i].ID,
			coordtest.ResultData(t, "again", tasks[i], protocol.StatusOK, coordtest.Curve(stopEpochs, 0.1), nil))
	}
	info := e.WaitSweep("again", store.SweepDone, 10*time.Second)
	if info.Done != 4 || info.Stopped != 0 {
		t.Errorf("sweep %+v, want 4 done", info)
	}
	for _, r := range e.Records("again") {
		if r.State != results.StateDone || r.Stop != nil {
			t.Errorf("record %d: %s, decision %+v; want done, no decision in force", r.Ordinal, r.State, r.Stop)
		}
	}
	if _, err := coordinator.NewClient(e.NC).Retry(ctx, coordinator.RetryRequest{Sweep: "nosuch", Stopped: true}); !errors.Is(err, results.ErrNotFound) {
		t.Errorf("retry --stopped of an unknown sweep: %v", err)
	}
}

// A rebuild over a backup taken before a decision restores the decision
// from the stopped result that carries it, so that the result counts.
func TestRebuildKeepsStops(t *testing.T) {
	ctx := context.Background()
	e := newStopEnv(t, stopRule())
	path, tasks := stopSpec(t, e.Dir, "rebuilt", 2)
	if _, err := e.Submit(path, false); err != nil {
		t.Fatal(err)
	}
	takeTasks(t, e, 2)
	backup, err := e.Coord.Backup(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ask(t, e.NC, "rebuilt", tasks[0], 1, 0.1)
	d := ask(t, e.NC, "rebuilt", tasks[0], 2, 0.1)
	coordtest.PublishResult(t, e.JS, "rebuilt", tasks[0].ID,
		coordtest.ResultData(t, "rebuilt", tasks[0], protocol.StatusStopped, coordtest.Curve(2, 0.1), d))
	coordtest.PublishResult(t, e.JS, "rebuilt", tasks[1].ID,
		coordtest.ResultData(t, "rebuilt", tasks[1], protocol.StatusOK, coordtest.Curve(stopEpochs, 0.9), nil))
	e.WaitSweep("rebuilt", store.SweepDone, 10*time.Second)
	e.StopCoordinator()

	out := filepath.Join(t.TempDir(), "state.db")
	rep, err := coordinator.Rebuild(ctx, e.JS, backup, out, coordtest.TicketKey)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Report.Stored != 2 || rep.Report.Rejected != 0 {
		t.Errorf("rebuild: %+v, want both results stored", rep.Report)
	}
	st, err := store.Open(out, &store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	info, err := st.Sweep(ctx, "rebuilt")
	if err != nil || info.Stopped != 1 || info.Done != 1 || info.State != store.SweepDone {
		t.Errorf("rebuilt sweep: %+v (err %v), want done: 1 stopped, 1 done", info, err)
	}
	got := decisions(t, st, "rebuilt")
	if r := got[tasks[0].ID]; !sameStop(&r.Decision, d) || len(got) != 1 {
		t.Errorf("rebuilt decisions %+v, want task 0's %+v", got, d)
	}
}
