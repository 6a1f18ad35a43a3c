package worker_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sgsweep/sgsweep/coordinator/coordtest"
	"github.com/sgsweep/sgsweep/protocol"
	"github.com/sgsweep/sgsweep/results/store"
	"github.com/sgsweep/sgsweep/worker"
)

// Stopping a worker lets short tasks finish, then cancels the long one after
// the drain timeout and hands it back at once (well before the ack wait).
func TestDrainHandsBackRunningTask(t *testing.T) {
	cfg := coordtest.CoordinatorConfig()
	cfg.AckWait = 20 * time.Second
	cfg.BackOff = []time.Duration{cfg.AckWait}
	e := coordtest.NewEnv(t, cfg)
	started := make(chan uint64, 10)
	fake := &coordtest.Fake{Slow: map[uint64]time.Duration{1: time.Hour, 2: 200 * time.Millisecond}, Started: started}
	if _, err := e.Submit(coordtest.Spec(t, e.Dir, "drain", 2, nil, ""), false); err != nil {
		t.Fatal(err)
	}
	wcfg := coordtest.WorkerConfig("drainer", 2)
	wcfg.DrainTimeout = 500 * time.Millisecond
	wcfg.Logger = coordtest.Logger(t)
	w, err := worker.New(coordtest.Connect(t, e.Srv.URL, ""), fake.Train, wcfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	for range 2 {
		select {
		case <-started:
		case <-time.After(10 * time.Second):
			t.Fatal("tasks not started")
		}
	}
	stop() // seed 2 finishes within the drain timeout; seed 1 cannot
	stopped := time.Now()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("worker did not stop")
	}
	if d := time.Since(stopped); d > 2*time.Second {
		t.Errorf("stopping took %v with a 500ms drain timeout", d)
	}
	if st := w.Stats(); st.Completed != 1 || st.Requeued != 1 {
		t.Errorf("stats = %+v, want 1 completed and 1 handed back", st)
	}
	rescue := &coordtest.Fake{}
	e.StartWorker("rescue", 1, rescue)
	e.WaitSweep("drain", store.SweepDone, 5*time.Second) // ≪ the 20 s ack wait
	recs := e.WantAllDone("drain", 2)
	if p := recs[0].Result.Provenance; p.Worker != "rescue" || p.Attempt != 2 {
		t.Errorf("handed-back task finished by %s at attempt %d", p.Worker, p.Attempt)
	}
	if p := recs[1].Result.Provenance; p.Worker != "drainer" {
		t.Errorf("drained task finished by %s", p.Worker)
	}
}

// Each finished epoch is published on the task's progress subject.
func TestProgressMessages(t *testing.T) {
	e := coordtest.NewEnv(t, coordtest.CoordinatorConfig())
	msgs := make(chan *nats.Msg, 10)
	sub, err := e.NC.ChanSubscribe(protocol.SweepProgressSubjects("prog"), msgs)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	e.StartWorker("w", 1, &coordtest.Fake{Sleep: 30 * time.Millisecond})
	if _, err := e.Submit(coordtest.Spec(t, e.Dir, "prog", 1, nil, ""), false); err != nil {
		t.Fatal(err)
	}
	e.WaitSweep("prog", store.SweepDone, 10*time.Second)
	task := e.Records("prog")[0].TaskID
	for want := 1; want <= 2; want++ { // the spec trains 2 epochs
		select {
		case m := <-msgs:
			p, err := protocol.DecodeProgress(m.Data)
			if err != nil {
				t.Fatalf("progress message %s: %v", m.Data, err)
			}
			if m.Subject != protocol.ProgressSubject("prog", task) || p.TaskID != task || p.Epoch.Epoch != want ||
				p.Epochs != 2 || p.Worker != "w" || p.Attempt != 1 {
				data, _ := json.Marshal(p)
				t.Errorf("progress %d on %s: %s", want, m.Subject, data)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no progress message for epoch %d", want)
		}
	}
}
