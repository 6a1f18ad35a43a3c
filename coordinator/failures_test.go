package coordinator_test

import (
	"context"
	"encoding/json"
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

// publishResult publishes a result message as a worker would.
func publishResult(e *coordtest.Env, r *protocol.ResultMsg, msgID string) {
	e.T.Helper()
	data, err := json.Marshal(r)
	if err != nil {
		e.T.Fatal(err)
	}
	_, err = e.JS.Publish(context.Background(), protocol.ResultSubject(r.Sweep, r.TaskID), data, jetstream.WithMsgID(msgID))
	if err != nil {
		e.T.Fatal(err)
	}
}

func TestDuplicateAndConflictingResults(t *testing.T) {
	e := coordtest.NewEnv(t, coordtest.CoordinatorConfig())
	fake := &coordtest.Fake{}
	e.StartWorker("w1", 2, fake)
	if _, err := e.Submit(coordtest.Spec(t, e.Dir, "dups", 4, nil, ""), false); err != nil {
		t.Fatal(err)
	}
	e.WaitSweep("dups", store.SweepDone, 20*time.Second)
	first := e.Records("dups")[0]
	stored := *first.Result
	stored.Params = first.Params // a Record holds the params once, not in Result

	// The same result, delivered twice more (new message IDs: the stream
	// stores both), is stored once.
	publishResult(e, &stored, "again-1")
	publishResult(e, &stored, "again-2")
	coordtest.WaitFor(t, 10*time.Second, "duplicates counted", func() bool {
		info, _ := e.Store.Sweep(context.Background(), "dups")
		return info.Duplicates == 2
	})

	// A differing result of the same task is kept aside as a conflict.
	other := stored
	res := *stored.Result
	res.TestAcc += 0.25
	other.Result = &res
	var err error
	if other.Digest, err = sweep.Digest(other.Result); err != nil {
		t.Fatal(err)
	}
	publishResult(e, &other, "other")
	coordtest.WaitFor(t, 10*time.Second, "conflict recorded", func() bool {
		info, _ := e.Store.Sweep(context.Background(), "dups")
		return info.Conflicts == 1
	})
	if got := e.Records("dups")[0]; got.Result.Digest != stored.Digest || got.Result.Result.TestAcc != stored.Result.TestAcc {
		t.Errorf("stored result changed: %+v", got.Result)
	}
	st, err := coordinator.NewClient(e.NC).Status(context.Background(), coordinator.StatusRequest{Sweep: "dups"})
	if err != nil {
		t.Fatal(err)
	}
	if c := st.Sweeps[0].ConflictList; len(c) != 1 || c[0].TaskID != first.TaskID || c[0].Other != other.Digest {
		t.Errorf("status conflicts = %+v", c)
	}
	e.WantDrained()
	wantRunsAbsorbed(t, e, "dups", fake, 4, 2)
}

func TestFailingTasks(t *testing.T) {
	cfg := coordtest.CoordinatorConfig()
	e := coordtest.NewEnv(t, cfg)
	// Seeds: 2 always fails (maybe environmental), 3 has an invalid
	// config, 4 panics; the others succeed.
	fake := &coordtest.Fake{Fail: []uint64{2}, Invalid: []uint64{3}, Panic: []uint64{4}}
	e.StartWorker("w1", 2, fake)
	e.StartWorker("w2", 2, fake)
	if _, err := e.Submit(coordtest.Spec(t, e.Dir, "fails", 6, nil, ""), false); err != nil {
		t.Fatal(err)
	}
	info := e.WaitSweep("fails", store.SweepDone, 20*time.Second)
	if info.Done != 3 || info.Failed != 3 {
		t.Errorf("sweep = %+v, want 3 done, 3 failed", info)
	}
	recs := e.Records("fails")
	tests := []struct {
		seed      uint64
		runs      int
		errSubstr string
	}{
		{2, cfg.MaxDeliver, "after 3 deliveries: fake environmental failure"},
		{3, 1, "fake invalid config"},
		{4, 1, "simulator panic: fake simulator panic on seed 4"},
	}
	for _, tt := range tests {
		r := recs[tt.seed-1] // replicates are the outermost axis: ordinal = seed-1
		if r.State != results.StateFailed || r.Result == nil || r.Result.Status != protocol.StatusFailed ||
			!strings.Contains(r.Error, tt.errSubstr) {
			t.Errorf("seed %d: state %s error %q, want failed with %q", tt.seed, r.State, r.Error, tt.errSubstr)
		}
		if got := fake.StartedOf(tt.seed); got != tt.runs {
			t.Errorf("seed %d ran %d times, want %d", tt.seed, got, tt.runs)
		}
	}
	e.WantDrained()
}

func TestDeadWorkerTaskBecomesFailedThenRetried(t *testing.T) {
	cfg := coordtest.CoordinatorConfig()
	cfg.AckWait = time.Second
	cfg.BackOff = []time.Duration{cfg.AckWait}
	e := coordtest.NewEnv(t, cfg)
	if _, err := e.Submit(coordtest.Spec(t, e.Dir, "dead", 1, nil, ""), false); err != nil {
		t.Fatal(err)
	}
	// A "worker" that takes the task and dies without a word, every time.
	cons, err := e.JS.Consumer(context.Background(), protocol.StreamTasks, protocol.ConsumerWorkers)
	if err != nil {
		t.Fatal(err)
	}
	deliveries := 0
	deadline := time.Now().Add(15 * time.Second)
	for deliveries < cfg.MaxDeliver && time.Now().Before(deadline) {
		if _, err := cons.Next(jetstream.FetchMaxWait(2 * time.Second)); err == nil {
			deliveries++
		}
	}
	if deliveries != cfg.MaxDeliver {
		t.Fatalf("%d deliveries, want %d", deliveries, cfg.MaxDeliver)
	}
	// An idle worker's pull request: the server checks the delivery
	// limit only while a pull is pending (nats-server 2.15), and the task
	// is not delivered again.
	if _, err := cons.Next(jetstream.FetchMaxWait(3 * time.Second)); err == nil {
		t.Error("the dead task was delivered again")
	}
	info := e.WaitSweep("dead", store.SweepDone, 10*time.Second)
	r := e.Records("dead")[0]
	if info.Failed != 1 || r.State != results.StateFailed || r.Result != nil ||
		!strings.Contains(r.Error, "no result after 3 deliveries") || r.Attempts != 3 {
		t.Errorf("dead task: %+v (sweep %+v)", r, info)
	}
	// The dead message was removed, so that retrying can publish it again.
	coordtest.WaitFor(t, 5*time.Second, "dead task message removed", func() bool { return e.StreamMsgs(protocol.StreamTasks) == 0 })

	rep, err := coordinator.NewClient(e.NC).Retry(context.Background(), coordinator.RetryRequest{Sweep: "dead"})
	if err != nil || rep.Retried != 1 {
		t.Fatalf("retry = %+v, %v", rep, err)
	}
	fake := &coordtest.Fake{}
	e.StartWorker("w1", 1, fake)
	e.WaitSweep("dead", store.SweepDone, 10*time.Second)
	e.WantAllDone("dead", 1)
	if fake.Runs() != 1 {
		t.Errorf("%d runs after retry, want 1", fake.Runs())
	}
}

func TestCorruptMessagesSetAside(t *testing.T) {
	e := coordtest.NewEnv(t, coordtest.CoordinatorConfig())
	ctx := context.Background()

	// A task of a sweep planned with a message of an unknown major
	// version in its subject: the coordinator's own publication is refused
	// (the subject holds a message), the worker terminates the v2 message,
	// and the task is recorded failed.
	path := coordtest.Spec(t, e.Dir, "corrupt", 3, nil, "")
	_, tasks := coordtest.Expand(t, path)
	v2 := protocol.NewTaskMsg("corrupt", tasks[1], 0, time.Now())
	v2.Schema = "sgsweep.task/v2"
	data, _ := json.Marshal(v2)
	if _, err := e.JS.Publish(ctx, protocol.TaskSubject("corrupt", tasks[1].ID), data); err != nil {
		t.Fatal(err)
	}
	// Garbage on a task subject no sweep plans, and on a result subject.
	ghost := strings.Repeat("ab", 16)
	if _, err := e.JS.Publish(ctx, protocol.TaskSubject("ghost", ghost), []byte("\x00garbage")); err != nil {
		t.Fatal(err)
	}
	if _, err := e.JS.Publish(ctx, protocol.ResultSubject("ghost", ghost), []byte("{not json")); err != nil {
		t.Fatal(err)
	}

	if _, err := e.Submit(path, false); err != nil {
		t.Fatal(err)
	}
	// The worker starts once the coordinator has tried all three tasks:
	// otherwise it could terminate the v2 message before the coordinator
	// publishes the task, whose real message would then run.
	coordtest.WaitFor(t, 10*time.Second, "the three tasks queued", func() bool {
		n := 0
		err := e.Store.QueuedTasks(ctx, func(store.QueuedTask) error { n++; return nil })
		return err == nil && n == 3
	})
	if st := e.Coord.Stats(); st.Published != 2 {
		t.Errorf("coordinator stats %+v, want 2 tasks published (the third subject holds the v2 message)", st)
	}
	fake := &coordtest.Fake{}
	e.StartWorker("w1", 2, fake)
	info := e.WaitSweep("corrupt", store.SweepDone, 20*time.Second)
	if info.Done != 2 || info.Failed != 1 {
		t.Errorf("sweep = %+v, want 2 done 1 failed", info)
	}
	r := e.Records("corrupt")[1]
	if r.State != results.StateFailed || !strings.Contains(r.Error, "sgsweep.task/v2") {
		t.Errorf("v2 task: state %s error %q", r.State, r.Error)
	}
	coordtest.WaitFor(t, 10*time.Second, "three messages set aside", func() bool {
		_, total, _ := e.Store.Rejected(ctx, 0)
		return total == 3
	})
	rejected, _, _ := e.Store.Rejected(ctx, 0)
	var reasons []string
	for _, r := range rejected {
		reasons = append(reasons, r.Subject+": "+r.Reason)
	}
	joined := strings.Join(reasons, "\n")
	for _, want := range []string{protocol.TaskSubject("ghost", ghost), protocol.ResultSubject("ghost", ghost), "sgsweep.task/v2"} {
		if !strings.Contains(joined, want) {
			t.Errorf("set-aside messages %q lack %q", joined, want)
		}
	}
	if fake.Runs() != 2 {
		t.Errorf("%d runs, want 2", fake.Runs())
	}
	e.WantDrained()
	if n := e.StreamMsgs(protocol.StreamDeadLetters); n != 0 {
		t.Errorf("%d advisories left in the dead-letter stream", n)
	}
}

func TestLongTaskHeartbeats(t *testing.T) {
	tests := []struct {
		name      string
		heartbeat time.Duration // 0: a third of the ack wait
		wantRuns  func(int) bool
	}{
		{"with heartbeats, delivered once", 0, func(n int) bool { return n == 1 }},
		{"without heartbeats, redelivered", time.Hour, func(n int) bool { return n >= 2 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := coordtest.CoordinatorConfig()
			cfg.MaxDeliver = 5
			e := coordtest.NewEnv(t, cfg)
			fake := &coordtest.Fake{Slow: map[uint64]time.Duration{1: cfg.AckWait * 7 / 2}}
			wcfg := coordtest.WorkerConfig("w1", 2)
			wcfg.Heartbeat = tt.heartbeat
			e.StartWorkerWith(wcfg, fake)
			if _, err := e.Submit(coordtest.Spec(t, e.Dir, "long", 1, nil, ""), false); err != nil {
				t.Fatal(err)
			}
			e.WaitSweep("long", store.SweepDone, 20*time.Second)
			if got := fake.StartedOf(1); !tt.wantRuns(got) {
				t.Errorf("the long task ran %d times", got)
			}
			e.WantAllDone("long", 1)
			e.WantDrained()
		})
	}
}

func TestNATSRestartMidSweep(t *testing.T) {
	const n = 60
	e := coordtest.NewEnv(t, coordtest.CoordinatorConfig())
	fake := &coordtest.Fake{Sleep: 40 * time.Millisecond}
	e.StartWorker("w1", 2, fake)
	e.StartWorker("w2", 2, fake)
	if _, err := e.Submit(coordtest.Spec(t, e.Dir, "restart", n, nil, ""), false); err != nil {
		t.Fatal(err)
	}
	coordtest.WaitFor(t, 20*time.Second, "a third of the sweep", func() bool {
		info, _ := e.Store.Sweep(context.Background(), "restart")
		return info != nil && info.Done >= n/3
	})
	reconnected := make(chan struct{}, 1)
	e.NC.SetReconnectHandler(func(*nats.Conn) { reconnected <- struct{}{} })
	e.RestartServer(500 * time.Millisecond)
	select {
	case <-reconnected:
	case <-time.After(10 * time.Second):
		t.Fatal("no reconnect after the server restart")
	}
	info := e.WaitSweep("restart", store.SweepDone, 30*time.Second)
	if info.Done != n {
		t.Errorf("sweep = %+v, want %d done", info, n)
	}
	e.WantAllDone("restart", n)
	e.WantDrained()
	// Runs across the outage may be repeated (a task whose ack or result
	// was in flight is redelivered); which copy the stream kept cannot be
	// told apart from a retried publication, so only a lower bound here.
	if runs := fake.Runs(); runs < n {
		t.Errorf("%d runs for %d tasks", runs, n)
	} else {
		t.Logf("%d runs for %d tasks", runs, n)
	}
}
