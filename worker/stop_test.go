package worker_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sgsweep/sgsweep/coordinator/coordtest"
	"github.com/sgsweep/sgsweep/protocol"
	"github.com/sgsweep/sgsweep/sim"
	"github.com/sgsweep/sgsweep/sweep"
	"github.com/sgsweep/sgsweep/worker"
)

// stopEpochs is the length of the runs the stopping tests stop.
const stopEpochs = 5

// stopTask returns a tiny task of stopEpochs epochs of the named sweep.
func stopTask(t *testing.T, name string) sweep.Task {
	t.Helper()
	spec, err := sweep.Parse(name+".yaml", fmt.Appendf(nil, `name: %s
base:
  dataset: {samples_per_class: 4, steps: 10}
  network: {hidden: [4]}
  train: {epochs: %d, batch: 8}
`, name, stopEpochs))
	if err != nil {
		t.Fatal(err)
	}
	tasks, err := spec.Expand()
	if err != nil {
		t.Fatal(err)
	}
	return tasks[0]
}

// shortRun returns, encoded, the Result of cfg trained for n epochs, with
// the given status: what a run of cfg stopped after epoch n must report.
func shortRun(t *testing.T, cfg sim.Config, n int, status string) []byte {
	t.Helper()
	cfg.Train.Epochs = n
	res, _, err := sim.Train(context.Background(), cfg, sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res.Status = status
	data, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// simChildRunner is childRunner with sim.Train in the child.
func simChildRunner(t *testing.T) *worker.ProcessRunner {
	r := childRunner(t)
	r.Env = append(r.Env, childEnv+"=sim") // the last value of a key wins
	return r
}

// A ProcessRunner passes each epoch to Stop in the worker's process and
// its answer to the child, which waits for it: stopped after epoch 2, the
// child reports the Result of a 2-epoch run, status stopped.
func TestProcessRunnerStop(t *testing.T) {
	cfg := stopTask(t, "child").Config
	var calls []string
	res, _, err := simChildRunner(t).Run(context.Background(), cfg, sim.Options{
		OnEpoch: func(e sim.Epoch, _ float64) { calls = append(calls, fmt.Sprint("epoch ", e.Epoch)) },
		Stop: func(e sim.Epoch) bool {
			calls = append(calls, fmt.Sprint("stop? ", e.Epoch))
			return e.Epoch == 2
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := "[epoch 1 stop? 1 epoch 2 stop? 2]"; fmt.Sprint(calls) != want {
		t.Errorf("calls %v, want %s", calls, want)
	}
	got, _ := json.Marshal(res)
	if want := shortRun(t, cfg, 2, sim.StatusStopped); !bytes.Equal(got, want) {
		t.Errorf("stopped in the child:\n%s\n2-epoch run:\n%s", got, want)
	}
}

// A child that awaits stop answers is cancelled when its stdin reaches EOF
// between two epochs, and when stdin holds something else than an answer
// (which it names on stderr).
func TestServeTaskAwaitStopCancel(t *testing.T) {
	for name, after := range map[string]string{"EOF": "", "garbage": "stop!\n"} {
		t.Run(name, func(t *testing.T) {
			cfg := stopTask(t, "serve").Config
			req, _ := json.Marshal(map[string]any{"config": cfg, "threads": 1, "await_stop": true})
			inR, inW := io.Pipe()
			outR, outW := io.Pipe()
			var stderr bytes.Buffer
			done := make(chan error, 1)
			go func() {
				done <- worker.ServeTask(context.Background(), inR, outW, &stderr, sim.Train)
				outW.Close()
			}()
			go inW.Write(append(req, '\n'))
			lines := bufio.NewScanner(outR)
			if !lines.Scan() || !strings.HasPrefix(lines.Text(), `{"epoch":{"epoch":1,`) {
				t.Fatalf("first line %q, want epoch 1", lines.Text())
			}
			if after != "" {
				go inW.Write([]byte(after))
			} else {
				inW.Close()
			}
			if !lines.Scan() {
				t.Fatalf("no last line: %v", lines.Err())
			}
			var last struct {
				Done     bool `json:"done"`
				Canceled bool `json:"canceled"`
			}
			if err := json.Unmarshal(lines.Bytes(), &last); err != nil || !last.Done || !last.Canceled {
				t.Errorf("last line %s, want the end of a cancelled run", lines.Bytes())
			}
			if err := <-done; err != nil {
				t.Errorf("ServeTask: %v", err)
			}
			if after != "" && !strings.Contains(stderr.String(), "read stop answer") {
				t.Errorf("stderr %q does not say why the run was cancelled", stderr.String())
			}
			inW.Close()
		})
	}
}

// runTask publishes the task (with TaskMsg.Stopping as given) on the env's
// task stream and returns the decoded result a worker publishes for it.
func runTask(t *testing.T, e *coordtest.Env, name string, task sweep.Task, stopping bool) *protocol.ResultMsg {
	t.Helper()
	results := make(chan *nats.Msg, 1)
	sub, err := e.NC.ChanSubscribe(protocol.ResultSubject(name, task.ID), results)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	msg := protocol.NewTaskMsg(name, task, 0, time.Now())
	msg.Stopping = stopping
	data, _ := json.Marshal(msg)
	if _, err := e.JS.Publish(context.Background(), protocol.TaskSubject(name, task.ID), data); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-results:
		r, err := protocol.DecodeResult(m.Data)
		if err != nil {
			t.Fatalf("result %s: %v", m.Data, err)
		}
		return r
	case <-time.After(60 * time.Second):
		t.Fatal("no result")
		return nil
	}
}

// progressLog records the progress messages of one task: the epochs sent
// as requests and those published plainly.
type progressLog struct {
	mu              sync.Mutex
	requests, plain []int
}

func (l *progressLog) add(m *nats.Msg) (epoch int) {
	p, err := protocol.DecodeProgress(m.Data)
	if err != nil {
		panic(fmt.Sprintf("progress message %s: %v", m.Data, err))
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if m.Reply != "" {
		l.requests = append(l.requests, p.Epoch.Epoch)
	} else {
		l.plain = append(l.plain, p.Epoch.Epoch)
	}
	return p.Epoch.Epoch
}

func (l *progressLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return fmt.Sprintf("requests %v, plain %v", l.requests, l.plain)
}

// decisionAt is a stop decision after the given epoch.
func decisionAt(epoch int) *protocol.StopDecision {
	return &protocol.StopDecision{Epoch: epoch, Rule: protocol.RuleChance, Metric: "val_acc", Mode: "max",
		Value: 0.1, Threshold: 0.12, DecidedAt: time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)}
}

// A worker hears stop decisions in the replies to its progress requests,
// with sim.Train in its own process and in a task process, against a real
// NATS server with the coordinator's streams (the coordinator itself is
// stopped, so that the test alone answers): the run ends at the first
// epoch boundary at or after the decision's epoch, with the Result of a
// run that short and status stopped. No responder, a silent one or a
// garbled reply lets the run go on; a task without stopping rules sends
// plain progress messages.
func TestWorkerHearsStop(t *testing.T) {
	e := coordtest.NewEnv(t, coordtest.CoordinatorConfig())
	e.StopCoordinator()
	garbage := []byte(`{"schema":"sgsweep.progress-reply/v1","stop":{"epoch":0,"rule":"chance"}}`)
	tests := []struct {
		name     string
		stopping bool
		// reply answers the request of an epoch: nil sends nothing.
		reply     func(epoch int) []byte
		noSub     bool   // nobody subscribes to the progress subject
		status    string // of the result
		epochs    int    // trained
		stopAfter int    // the decision's epoch, 0 for none
		progress  string // the progressLog seen
	}{
		{name: "stop at 2", stopping: true, reply: replyStopAt(2, 2),
			status: protocol.StatusStopped, epochs: 2, stopAfter: 2, progress: "requests [1 2], plain []"},
		{name: "decision for 1 heard at 3", stopping: true, reply: replyStopAt(3, 1),
			status: protocol.StatusStopped, epochs: 3, stopAfter: 1, progress: "requests [1 2 3], plain []"},
		{name: "garbled replies", stopping: true, reply: func(int) []byte { return garbage },
			status: protocol.StatusOK, epochs: stopEpochs, progress: "requests [1 2 3 4], plain [5]"},
		{name: "silent subscriber", stopping: true, reply: func(int) []byte { return nil },
			status: protocol.StatusOK, epochs: stopEpochs, progress: "requests [1 2 3 4], plain [5]"},
		{name: "no responder", stopping: true, noSub: true, status: protocol.StatusOK, epochs: stopEpochs},
		{name: "no stopping rules", stopping: false, reply: replyStopAt(1, 1),
			status: protocol.StatusOK, epochs: stopEpochs, progress: "requests [], plain [1 2 3 4 5]"},
	}
	runners := map[string]func(t *testing.T) worker.Runner{
		"in-process":    func(*testing.T) worker.Runner { return sim.Train },
		"child process": func(t *testing.T) worker.Runner { return simChildRunner(t).Run },
	}
	for runnerName, runner := range runners {
		for i, tt := range tests {
			t.Run(runnerName+"/"+tt.name, func(t *testing.T) {
				name := fmt.Sprintf("stop%d%s", i, strings.Fields(runnerName)[0])
				task := stopTask(t, name)
				log := &progressLog{}
				if !tt.noSub {
					psub, err := e.NC.Subscribe(protocol.ProgressSubject(name, task.ID), func(m *nats.Msg) {
						epoch := log.add(m)
						if m.Reply != "" {
							if data := tt.reply(epoch); data != nil {
								m.Respond(data)
							}
						}
					})
					if err != nil {
						t.Fatal(err)
					}
					defer psub.Unsubscribe()
				}

				wcfg := coordtest.WorkerConfig("w", 1)
				// Long enough to be a test failure, not a wait, if no
				// responder (or a reply) did not end the wait at once.
				wcfg.ProgressReplyTimeout = 30 * time.Second
				if tt.name == "silent subscriber" {
					wcfg.ProgressReplyTimeout = 50 * time.Millisecond
				}
				w := startWorker(t, e, wcfg, runner(t))
				r := runTask(t, e, name, task, tt.stopping)
				stopped := int64(0)
				if tt.status == protocol.StatusStopped {
					stopped = 1
				}
				coordtest.WaitFor(t, 5*time.Second, "the worker to count the result", func() bool {
					st := w.W.Stats()
					return st.Completed == 1 && st.Stopped == stopped
				})
				if err := protocol.CheckPlausible(r); err != nil {
					t.Error(err)
				}
				if r.Status != tt.status {
					t.Fatalf("status %s (error %q), want %s", r.Status, r.Error, tt.status)
				}
				got, _ := json.Marshal(r.Result)
				if want := shortRun(t, task.Config, tt.epochs, tt.status); !bytes.Equal(got, want) {
					t.Errorf("result:\n%s\nwant the %d-epoch run's:\n%s", got, tt.epochs, want)
				}
				switch {
				case tt.stopAfter == 0 && r.Stop != nil:
					t.Errorf("result with stop decision %+v", r.Stop)
				case tt.stopAfter != 0:
					got, _ := json.Marshal(r.Stop)
					want, _ := json.Marshal(decisionAt(tt.stopAfter))
					if !bytes.Equal(got, want) {
						t.Errorf("result's stop decision %s, want %s", got, want)
					}
				}
				if tt.progress != "" {
					// Each subscription has its own goroutine: the last
					// progress message may be handled after the result.
					for deadline := time.Now().Add(5 * time.Second); log.String() != tt.progress; {
						if time.Now().After(deadline) {
							t.Fatalf("progress messages: %s, want %s", log, tt.progress)
						}
						time.Sleep(20 * time.Millisecond)
					}
				}
			})
		}
	}
}

// replyStopAt answers with the decision to stop after epoch decided when
// asked about epoch at, and with continue before.
func replyStopAt(at, decided int) func(epoch int) []byte {
	return func(epoch int) []byte {
		var stop *protocol.StopDecision
		if epoch >= at {
			stop = decisionAt(decided)
		}
		data, _ := json.Marshal(protocol.NewProgressReply(stop))
		return data
	}
}

// A runner that stops a run nobody decided to stop is reported failed:
// a stopped result always carries the decision that stopped it.
func TestWorkerRefusesUndecidedStop(t *testing.T) {
	e := coordtest.NewEnv(t, coordtest.CoordinatorConfig())
	e.StopCoordinator()
	rogue := func(ctx context.Context, cfg sim.Config, opts sim.Options) (*sim.Result, *sim.Timing, error) {
		opts.Stop = func(e sim.Epoch) bool { return true }
		return sim.Train(ctx, cfg, opts)
	}
	startWorker(t, e, coordtest.WorkerConfig("w", 1), rogue)
	r := runTask(t, e, "rogue", stopTask(t, "rogue"), true)
	if r.Status != protocol.StatusFailed || !strings.Contains(r.Error, "without a stop decision") {
		t.Errorf("status %s, error %q; want failed: stopped without a decision", r.Status, r.Error)
	}
}
