package dashboard

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sgsweep/sgsweep/coordinator"
)

// Bounds of the live state.
const (
	// eventBuffer is the subscription's buffer: beyond it the coordinator
	// drops events (and says Resync), never waits.
	eventBuffer = 4096
	// curvePoints bounds the epochs kept per running task.
	curvePoints = 500
	// staleAfter forgets a running task with no progress for this long
	// (its worker died; the coordinator will redeliver or fail it).
	staleAfter = 15 * time.Minute
	// workerWindow is how recently a worker must have been heard of to
	// count as seen.
	workerWindow = 5 * time.Minute
)

// RunningTask is a task a worker reported progress on and whose result is
// not committed yet.
type RunningTask struct {
	Sweep   string    `json:"sweep"`
	TaskID  string    `json:"task_id"`
	Worker  string    `json:"worker"`
	Attempt int       `json:"attempt"`
	Epoch   int       `json:"epoch"`
	Epochs  int       `json:"epochs"`
	ValAcc  float64   `json:"val_acc"`
	Loss    float64   `json:"train_loss"`
	Curve   []float64 `json:"curve"` // val_acc per epoch so far
	Updated time.Time `json:"updated"`
}

// hub holds what the coordinator's events say and wakes the browsers'
// event streams. Its zero value (with no events ever) serves a read-only
// store.
type hub struct {
	metrics *metrics

	mu      sync.Mutex
	running map[string]*RunningTask // by task ID
	workers map[string]time.Time    // worker → last heard of
	clients map[*client]struct{}
}

// client is one browser's event stream: a one-slot wake-up, so that the
// hub never waits for it.
type client struct {
	sweep string // "" for every sweep
	wake  chan struct{}
}

func newHub() *hub {
	return &hub{running: map[string]*RunningTask{}, workers: map[string]time.Time{},
		clients: map[*client]struct{}{}}
}

// run applies events until the channel closes or ctx is done.
func (h *hub) run(ctx context.Context, events <-chan coordinator.Event) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-events:
			if !ok {
				return
			}
			h.apply(ev)
		}
	}
}

// apply updates the running tasks, workers and metrics, then wakes the
// clients that watch an affected sweep.
func (h *hub) apply(ev coordinator.Event) {
	h.metrics.observe(ev)
	touched := map[string]bool{}
	h.mu.Lock()
	if ev.Resync {
		h.prune(ev.At)
	}
	switch {
	case ev.Progress != nil:
		p := ev.Progress
		touched[p.Sweep] = true
		h.workers[p.Worker] = ev.At
		t := h.running[p.TaskID]
		if t == nil || t.Attempt != p.Attempt || t.Worker != p.Worker {
			t = &RunningTask{Sweep: p.Sweep, TaskID: p.TaskID, Worker: p.Worker, Attempt: p.Attempt}
			h.running[p.TaskID] = t
		}
		t.Epoch, t.Epochs, t.ValAcc, t.Loss, t.Updated = p.Epoch.Epoch, p.Epochs, p.Epoch.ValAcc, p.Epoch.TrainLoss, ev.At
		if len(t.Curve) < curvePoints {
			t.Curve = append(t.Curve, p.Epoch.ValAcc)
		}
	case ev.Commit != nil:
		for _, r := range ev.Commit.Results {
			touched[r.Sweep] = true
			delete(h.running, r.TaskID)
			if r.Worker != "" {
				h.workers[r.Worker] = ev.At
			}
		}
		for _, f := range ev.Commit.Failures {
			if t := h.running[f.TaskID]; t != nil {
				touched[t.Sweep] = true
				delete(h.running, f.TaskID)
			}
		}
		if len(ev.Commit.Failures) > 0 || len(touched) == 0 {
			touched[""] = true // a dead letter's sweep is not named: wake all
		}
	}
	h.wakeLocked(touched)
	h.mu.Unlock()
}

// prune forgets stale running tasks and workers.
func (h *hub) prune(now time.Time) {
	for id, t := range h.running {
		if now.Sub(t.Updated) > staleAfter {
			delete(h.running, id)
		}
	}
	for w, at := range h.workers {
		if now.Sub(at) > workerWindow {
			delete(h.workers, w)
		}
	}
}

// wake notifies the clients of these sweeps ("" wakes every client).
func (h *hub) wake(sweeps ...string) {
	touched := map[string]bool{}
	for _, s := range sweeps {
		touched[s] = true
	}
	h.mu.Lock()
	h.wakeLocked(touched)
	h.mu.Unlock()
}

func (h *hub) wakeLocked(touched map[string]bool) {
	for c := range h.clients {
		if c.sweep == "" || touched[""] || touched[c.sweep] {
			select {
			case c.wake <- struct{}{}:
			default: // already woken: it will read the latest state
			}
		}
	}
}

func (h *hub) register(sweep string) *client {
	c := &client{sweep: sweep, wake: make(chan struct{}, 1)}
	h.mu.Lock()
	h.clients[c] = struct{}{}
	h.mu.Unlock()
	return c
}

func (h *hub) unregister(c *client) {
	h.mu.Lock()
	delete(h.clients, c)
	h.mu.Unlock()
}

// Running returns copies of the sweep's running tasks (all sweeps for ""),
// the most advanced first.
func (h *hub) Running(sweep string) []RunningTask {
	h.mu.Lock()
	h.prune(time.Now())
	var out []RunningTask
	for _, t := range h.running {
		if sweep == "" || t.Sweep == sweep {
			c := *t
			c.Curve = slices.Clone(t.Curve)
			out = append(out, c)
		}
	}
	h.mu.Unlock()
	slices.SortFunc(out, func(a, b RunningTask) int {
		if a.Epoch != b.Epoch {
			return b.Epoch - a.Epoch
		}
		return strings.Compare(a.TaskID, b.TaskID)
	})
	return out
}

// runningTask returns the task if it is running.
func (h *hub) runningTask(id string) *RunningTask {
	h.mu.Lock()
	defer h.mu.Unlock()
	if t := h.running[id]; t != nil {
		c := *t
		c.Curve = slices.Clone(t.Curve)
		return &c
	}
	return nil
}

// workersSeen counts the workers heard of within workerWindow.
func (h *hub) workersSeen() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.prune(time.Now())
	return len(h.workers)
}
