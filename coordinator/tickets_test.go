package coordinator_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sgsweep/sgsweep/coordinator"
	"github.com/sgsweep/sgsweep/coordinator/coordtest"
	"github.com/sgsweep/sgsweep/protocol"
	"github.com/sgsweep/sgsweep/results"
	"github.com/sgsweep/sgsweep/results/store"
	"github.com/sgsweep/sgsweep/sweep"
)

// withTicket sets the ticket of a result message body.
func withTicket(t *testing.T, data []byte, ticket string) []byte {
	t.Helper()
	var m protocol.ResultMsg
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	m.Ticket = ticket
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// A client with the worker credentials forges plausible results for
// planned, queued tasks: without a ticket, with a made-up one, and with the
// ticket of a task it pulled from the queue put on another task. All are
// orphans, and the real worker's results are stored. The task it pulled
// itself is the one it can forge (verification by recomputation is the
// check of that).
func TestTicketsRefuseForgedResults(t *testing.T) {
	e := newSecureEnv(t)
	client := coordinator.NewClient(e.connect(coordinator.RoleClient))
	forger, _ := jetstream.New(e.connect(coordinator.RoleWorker))
	bg := context.Background()
	spec := coordtest.Spec(t, e.dir, "tickets", 4, nil, "")
	if _, err := e.submit(client, spec); err != nil {
		t.Fatal(err)
	}
	tasks := expandSpec(t, spec)
	cons, err := forger.Consumer(bg, protocol.StreamTasks, protocol.ConsumerWorkers)
	if err != nil {
		t.Fatal(err)
	}
	m, err := cons.Next(jetstream.FetchMaxWait(10 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	pulled, err := protocol.DecodeTask(m.Data())
	if err != nil || len(pulled.Ticket) != 64 {
		t.Fatalf("pulled task %+v, %v: want a 64-digit ticket", pulled, err)
	}
	var others []sweep.Task
	var own sweep.Task
	for _, task := range tasks {
		if task.ID == pulled.TaskID {
			own = task
		} else {
			others = append(others, task)
		}
	}
	publish := func(task sweep.Task, ticket string) {
		t.Helper()
		data := withTicket(t, forge(t, "tickets", task, 0.999), ticket)
		if _, err := forger.Publish(bg, protocol.ResultSubject("tickets", task.ID), data); err != nil {
			t.Fatal(err)
		}
	}
	publish(others[0], "")
	publish(others[1], strings.Repeat("ab", 32))
	publish(others[2], pulled.Ticket)
	publish(own, pulled.Ticket)
	if err := m.DoubleAck(bg); err != nil {
		t.Fatal(err)
	}
	coordtest.WaitFor(t, 10*time.Second, "3 orphans", func() bool {
		st, err := e.coord.Status(bg, coordinator.StatusRequest{})
		return err == nil && st.Orphans == 3
	})
	rejected, _, err := e.st.Rejected(bg, 0)
	if err != nil || len(rejected) != 3 {
		t.Fatalf("rejected: %+v, %v", rejected, err)
	}
	for i, want := range []string{"without a ticket", "did not issue", "did not issue"} {
		if r := rejected[i]; !strings.Contains(r.Reason, want) || !strings.Contains(r.Subject, others[i].ID) {
			t.Errorf("rejected %d: %s: %q, want %q", i, r.Subject, r.Reason, want)
		}
	}

	e.startWorker("real", &coordtest.Fake{})
	if info := e.waitDone("tickets"); info.Done != 4 || info.Conflicts != 0 {
		t.Errorf("sweep = %+v", info)
	}
	err = e.st.Records(bg, "tickets", func(r *results.Record) error {
		forged := r.Result.Provenance.Worker == "forger"
		if forged != (r.TaskID == own.ID) {
			t.Errorf("task %s computed by %s", r.TaskID, r.Result.Provenance.Worker)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The ticket key is made once in the data dir's credentials (0600) and
// reused: a coordinator restarted over the same data dir accepts the
// tickets of the task messages its predecessor published. A rotated key
// makes the old tickets' results orphans; their tasks are published again
// and computed anew.
func TestTicketsAcrossRestarts(t *testing.T) {
	cfg := coordtest.CoordinatorConfig()
	cfg.ReconcileEvery = 200 * time.Millisecond
	e := coordtest.NewEnv(t, cfg)
	e.StopCoordinator()
	creds := filepath.Join(e.Dir, "credentials")
	key := func() []byte {
		t.Helper()
		k, err := coordinator.LoadTicketKey(creds)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	cfg.TicketKey = key()
	if fi, err := os.Stat(filepath.Join(creds, coordinator.TicketKeyFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("ticket key file: %v, %v", fi, err)
	}
	e.StartCoordinator(cfg)
	bg := context.Background()
	orphans := func() int {
		st, err := e.Coord.Status(bg, coordinator.StatusRequest{})
		if err != nil {
			t.Fatal(err)
		}
		return st.Orphans
	}

	if _, err := e.Submit(coordtest.Spec(t, e.Dir, "before", 6, nil, ""), false); err != nil {
		t.Fatal(err)
	}
	coordtest.WaitFor(t, 10*time.Second, "6 tasks queued", func() bool { return e.StreamMsgs(protocol.StreamTasks) == 6 })
	e.StopCoordinator()
	if again := key(); !bytes.Equal(again, cfg.TicketKey) {
		t.Fatal("the ticket key changed across a restart")
	}
	e.StartCoordinator(cfg)
	w := e.StartWorker("w1", 2, &coordtest.Fake{})
	e.WaitSweep("before", store.SweepDone, 20*time.Second)
	if n, st := orphans(), e.Coord.Stats(); n != 0 || st.Published != 0 {
		t.Errorf("after the restart: %d orphans, %d tasks published again", n, st.Published)
	}
	w.Shutdown(t)

	if _, err := e.Submit(coordtest.Spec(t, e.Dir, "rotated", 4, []float64{0.2}, ""), false); err != nil {
		t.Fatal(err)
	}
	coordtest.WaitFor(t, 10*time.Second, "4 tasks queued", func() bool { return e.StreamMsgs(protocol.StreamTasks) == 4 })
	e.StopCoordinator()
	if err := coordinator.RotateTicketKey(creds); err != nil {
		t.Fatal(err)
	}
	old := cfg.TicketKey
	if cfg.TicketKey = key(); bytes.Equal(cfg.TicketKey, old) {
		t.Fatal("rotation kept the key")
	}
	e.StartCoordinator(cfg)
	e.StartWorker("w2", 2, &coordtest.Fake{})
	e.WaitSweep("rotated", store.SweepDone, 30*time.Second)
	e.WantAllDone("rotated", 4)
	if n := orphans(); n != 4 {
		t.Errorf("%d orphans after the rotation, want the 4 results of the old tickets", n)
	}
}

// A ticket is valid for its sweep and task at its generation and every
// later one, and for nothing else; a key file others may read is refused.
func TestTicketValidity(t *testing.T) {
	k, err := coordinator.NewTickets(coordtest.TicketKey)
	if err != nil {
		t.Fatal(err)
	}
	ticket := k.Ticket("s", "task", 2)
	for _, tt := range []struct {
		sweep, task string
		gen         int
		want        bool
	}{
		{"s", "task", 2, true}, {"s", "task", 5, true}, {"s", "task", 1, false},
		{"s2", "task", 2, false}, {"s", "task2", 2, false}, {"s|task", "", 2, false},
	} {
		if got := k.Valid(tt.sweep, tt.task, tt.gen, ticket); got != tt.want {
			t.Errorf("Valid(%q, %q, %d) = %v", tt.sweep, tt.task, tt.gen, got)
		}
	}
	if k.Valid("s", "task", 2, strings.ToUpper(ticket[:2])+"x"+ticket[3:]) || k.Valid("s", "task", 2, ticket[:62]) {
		t.Error("a damaged ticket is valid")
	}
	if _, err := coordinator.NewTickets([]byte("short")); err == nil {
		t.Error("a 5-byte key was accepted")
	}

	dir := filepath.Join(t.TempDir(), "credentials")
	a, err := coordinator.LoadTicketKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := coordinator.LoadTicketKey(dir); err != nil || !bytes.Equal(a, b) {
		t.Errorf("the key changed on loading it again (%v)", err)
	}
	os.Chmod(filepath.Join(dir, coordinator.TicketKeyFile), 0o644)
	if _, err := coordinator.LoadTicketKey(dir); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("a world-readable key: %v", err)
	}
}
