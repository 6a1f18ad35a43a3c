// Package coordtest helps tests of the coordinator, the workers and the CLI:
// a real embedded NATS server with JetStream in a temporary directory, short
// timings, spec files, and Fake, a second implementation of the worker's
// Runner (a scripted stand-in for sim.Train, which takes seconds to minutes).
// It is imported by tests only.
package coordtest

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sgsweep/sgsweep/coordinator"
	"github.com/sgsweep/sgsweep/sweep"
	"github.com/sgsweep/sgsweep/worker"
)

// StartServer starts an embedded NATS server with JetStream storing under
// dir (a new temporary directory when dir is ""), on a random port (or the
// given one), and stops it when the test ends.
func StartServer(t testing.TB, dir string, port int, token string) *coordinator.Server {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	s, err := coordinator.StartServer(coordinator.ServerOptions{StoreDir: dir, Port: port, Token: token})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// Connect connects to url with the token, reconnecting forever, and closes
// the connection when the test ends.
func Connect(t testing.TB, url, token string) *nats.Conn {
	t.Helper()
	opts := []nats.Option{
		nats.MaxReconnects(-1),
		nats.ReconnectWait(100 * time.Millisecond),
		nats.ReconnectJitter(0, 0),
		nats.RetryOnFailedConnect(true),
	}
	if token != "" {
		opts = append(opts, nats.Token(token))
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// TicketKey is the task ticket key of CoordinatorConfig: fixed, so that a
// restarted test coordinator accepts its predecessor's tickets and tests
// can make valid tickets (coordinator.NewTickets).
var TicketKey = []byte("coordtest ticket key, 32 bytes..")

// Ticket is the task ticket a coordinator with TicketKey issues for
// generation gen of the task published by the sweep.
func Ticket(sweepName, taskID string, gen int) string {
	k, err := coordinator.NewTickets(TicketKey)
	if err != nil {
		panic(err)
	}
	return k.Ticket(sweepName, taskID, gen)
}

// CoordinatorConfig returns coordinator settings with test timings: a 2 s
// ack wait (heartbeats every 300 ms keep tasks on a loaded machine), 3
// deliveries and TicketKey.
func CoordinatorConfig() coordinator.Config {
	c := coordinator.DefaultConfig()
	c.AckWait = 2 * time.Second
	c.BackOff = []time.Duration{c.AckWait}
	c.MaxDeliver = 3
	c.ResultAckWait = 10 * time.Second
	c.PublishRetry = 200 * time.Millisecond
	c.TaskDuplicates = time.Minute
	c.ResultDuplicates = time.Minute
	c.MaxTaskBytes = 64 << 20
	c.MaxResultBytes = 64 << 20
	c.TicketKey = TicketKey
	return c
}

// WorkerConfig returns worker settings with test timings: heartbeats every
// 300 ms, a 2 s drain and 200 ms retry delays.
func WorkerConfig(id string, slots int) worker.Config {
	c := worker.DefaultConfig()
	c.ID = id
	c.Concurrency = slots
	c.Heartbeat = 300 * time.Millisecond
	c.DrainTimeout = 2 * time.Second
	c.RetryDelay = 200 * time.Millisecond
	c.MaxRetryDelay = 200 * time.Millisecond
	c.PublishTimeout = 10 * time.Second
	return c
}

// Spec writes a spec of seeds × len(lrs) tasks (a tiny randman config) to
// dir/name.yaml and returns its path. extra is appended to the spec (more
// YAML, e.g. a description).
func Spec(t testing.TB, dir, name string, seeds int, lrs []float64, extra string) string {
	t.Helper()
	text := fmt.Sprintf(`name: %s
base:
  dataset: {samples_per_class: 4, steps: 10}
  network: {hidden: [4]}
  train: {epochs: 2, batch: 8}
replicates: {seed: %d}
`, name, seeds)
	if len(lrs) > 0 {
		text += fmt.Sprintf("grid:\n  train.lr: %v\n", commaList(lrs))
	}
	text += extra
	path := filepath.Join(dir, name+".yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// Expand parses the spec file at path and expands its tasks.
func Expand(t testing.TB, path string) (*sweep.Spec, []sweep.Task) {
	t.Helper()
	spec, err := sweep.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tasks, err := spec.Expand()
	if err != nil {
		t.Fatal(err)
	}
	return spec, tasks
}

func commaList(v []float64) string {
	s := "["
	for i, x := range v {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprint(x)
	}
	return s + "]"
}
