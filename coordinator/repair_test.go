package coordinator_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sgsweep/sgsweep/coordinator"
	"github.com/sgsweep/sgsweep/coordinator/coordtest"
	"github.com/sgsweep/sgsweep/protocol"
	"github.com/sgsweep/sgsweep/results/store"
)

// repairConfig reconciles every 300 ms.
func repairConfig() coordinator.Config {
	cfg := coordtest.CoordinatorConfig()
	cfg.ReconcileEvery = 300 * time.Millisecond
	return cfg
}

// purge empties a stream.
func purge(t *testing.T, e *coordtest.Env, name string) {
	t.Helper()
	s, err := e.JS.Stream(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Purge(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// queuedWithoutCoordinator submits a sweep of n tasks, waits until they are
// queued and stops the coordinator.
func queuedWithoutCoordinator(t *testing.T, e *coordtest.Env, name string, n int) {
	t.Helper()
	if _, err := e.Submit(coordtest.Spec(t, e.Dir, name, n, nil, ""), false); err != nil {
		t.Fatal(err)
	}
	coordtest.WaitFor(t, 10*time.Second, "tasks queued", func() bool { return e.StreamMsgs(protocol.StreamTasks) == uint64(n) })
	e.StopCoordinator()
}

// wantOneResultEach checks that the sweep is done with one stored ok result
// per task and that no second result of any task reached the store.
func wantOneResultEach(t *testing.T, e *coordtest.Env, name string, n int) {
	t.Helper()
	info := e.WaitSweep(name, store.SweepDone, 30*time.Second)
	e.WantAllDone(name, n)
	if info.Duplicates != 0 || info.Conflicts != 0 || info.Failed != 0 {
		t.Errorf("sweep %s: %+v, want no duplicate, conflict or failure", name, info)
	}
	e.WantDrained()
}

// The task stream purged while the coordinator is down: the restarted
// coordinator publishes the tasks again, and the stream's dedupe window
// (a minute here) does not take the new publications for the old ones.
func TestRepairPurgedTaskStream(t *testing.T) {
	const n = 4
	e := coordtest.NewEnv(t, repairConfig())
	queuedWithoutCoordinator(t, e, "tasks", n)
	purge(t, e, protocol.StreamTasks)
	e.StartCoordinator(repairConfig())
	coordtest.WaitFor(t, 10*time.Second, "tasks queued again", func() bool { return e.StreamMsgs(protocol.StreamTasks) == n })
	if st := e.Coord.Stats(); st.Published != n {
		t.Errorf("restarted coordinator: %+v, want %d tasks published", st, n)
	}
	fake := &coordtest.Fake{}
	e.StartWorker("w1", 2, fake)
	wantOneResultEach(t, e, "tasks", n)
	if fake.Runs() != n {
		t.Errorf("%d runs for %d tasks", fake.Runs(), n)
	}
}

// The result stream purged while the coordinator is down, after workers had
// acked their tasks: the restarted coordinator finds the tasks in neither
// stream and publishes them again; reconciliation keeps doing so until
// their results are stored.
//
// The recomputed results carry Msg-Ids that name their delivery
// (r.<task>.<digest[:16]>.s<seq>.d<n>), so the result stream's dedupe
// window, which still remembers the purged results, does not drop them:
// the sweep completes on the first republication, each task run twice.
func TestRepairPurgedResultStream(t *testing.T) {
	const n = 4
	e := coordtest.NewEnv(t, repairConfig())
	queuedWithoutCoordinator(t, e, "results", n)
	fake := &coordtest.Fake{}
	w := e.StartWorker("w1", 2, fake)
	coordtest.WaitFor(t, 20*time.Second, "results waiting", func() bool {
		return e.StreamMsgs(protocol.StreamTasks) == 0 && e.StreamMsgs(protocol.StreamResults) == n
	})
	w.Shutdown(t)
	purge(t, e, protocol.StreamResults)
	e.StartCoordinator(repairConfig())
	e.StartWorker("w2", 2, fake)
	wantOneResultEach(t, e, "results", n)
	if fake.Runs() != 2*n {
		t.Errorf("%d runs for %d tasks whose results were purged, want %d", fake.Runs(), n, 2*n)
	}
}

// The dead-letter stream purged while the coordinator is down, after every
// task hit the delivery limit: the server never redelivers them and their
// advisories are gone. Reconciliation finds the dead messages below the
// worker consumer's ack floor and records the tasks failed, as the
// advisories would have; a retry then completes the sweep.
func TestRepairPurgedDeadLetters(t *testing.T) {
	const n = 4
	cfg := repairConfig()
	e := coordtest.NewEnv(t, cfg)
	queuedWithoutCoordinator(t, e, "dlq", n)
	// A worker that hands every task back until none is delivered any more.
	ctx := context.Background()
	cons, err := e.JS.Consumer(ctx, protocol.StreamTasks, protocol.ConsumerWorkers)
	if err != nil {
		t.Fatal(err)
	}
	coordtest.WaitFor(t, 20*time.Second, "every task dead", func() bool {
		m, err := cons.Next(jetstream.FetchMaxWait(200 * time.Millisecond))
		if err == nil {
			m.Nak()
			return false
		}
		return e.StreamMsgs(protocol.StreamDeadLetters) == n
	})
	purge(t, e, protocol.StreamDeadLetters)
	if got := e.StreamMsgs(protocol.StreamTasks); got != n {
		t.Fatalf("%d dead task messages in the stream, want %d", got, n)
	}

	e.StartCoordinator(cfg)
	info := e.WaitSweep("dlq", store.SweepDone, 10*time.Second)
	if info.Failed != n {
		t.Fatalf("sweep after reconciliation: %+v, want %d failed", info, n)
	}
	// Each is deleted after its failure is committed.
	coordtest.WaitFor(t, 5*time.Second, "dead messages deleted", func() bool { return e.StreamMsgs(protocol.StreamTasks) == 0 })
	fake := &coordtest.Fake{}
	e.StartWorker("w1", 2, fake)
	rep, err := coordinator.NewClient(e.NC).Retry(ctx, coordinator.RetryRequest{Sweep: "dlq"})
	if err != nil || rep.Retried != n {
		t.Fatalf("retry = %+v, %v", rep, err)
	}
	info = e.WaitSweep("dlq", store.SweepDone, 30*time.Second)
	e.WantAllDone("dlq", n)
	if info.Duplicates != 0 || info.Failed != 0 {
		t.Errorf("sweep after retry: %+v", info)
	}
	e.WantDrained()
	if fake.Runs() != n {
		t.Errorf("%d runs for %d tasks", fake.Runs(), n)
	}
}
