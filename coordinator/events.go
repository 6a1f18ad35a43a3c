package coordinator

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sgsweep/sgsweep/protocol"
	"github.com/sgsweep/sgsweep/results/store"
)

// Event is something the coordinator did or heard, for watchers (the
// dashboard, metrics): a committed batch, or a worker's progress message.
// Exactly one of Commit and Progress is set.
type Event struct {
	At time.Time
	// Resync says that events were dropped before this one because the
	// subscriber did not keep up: state derived from events should be read
	// afresh.
	Resync   bool
	Commit   *CommitEvent
	Progress *protocol.ProgressMsg
}

// CommitEvent describes one store commit of results or failures.
type CommitEvent struct {
	// Results are the result messages of the batch that decoded (stored,
	// duplicate or conflicting); Failures the tasks recorded failed without
	// a result (dead letters).
	Results  []CommittedResult
	Failures []store.Failure
	// Report is what the store did; Took how long the transaction took.
	Report store.CommitReport
	Took   time.Duration
}

// CommittedResult is one result message of a committed batch.
type CommittedResult struct {
	Sweep, TaskID, Status, Worker string
	Attempt                       int
	// RunSeconds is the worker's wall time for the task (0 if unknown).
	RunSeconds float64
}

// eventHub fans events out to subscribers without ever blocking the
// publisher: each subscriber has a bounded buffer, and a full buffer drops
// the event and flags the next delivered one with Resync. The zero value
// is ready to use.
type eventHub struct {
	mu   sync.Mutex
	subs map[*subscriber]struct{}
	n    atomic.Int32
	// wanted is closed at the first subscription (made by whichever of
	// Subscribe and wantedCh comes first).
	wanted chan struct{}
	asked  bool
}

// wantedCh returns the channel closed at the first subscription.
func (h *eventHub) wantedCh() <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.wanted == nil {
		h.wanted = make(chan struct{})
	}
	return h.wanted
}

type subscriber struct {
	ch     chan Event
	missed bool
}

// Subscribe returns a channel of the coordinator's events, buffered to
// hold buffer of them, and a function that ends the subscription (and
// closes the channel). Events are dropped, never waited for, when the
// buffer is full.
func (c *Coordinator) Subscribe(buffer int) (<-chan Event, func()) {
	h := &c.events
	s := &subscriber{ch: make(chan Event, max(buffer, 1))}
	h.mu.Lock()
	if h.subs == nil {
		h.subs = make(map[*subscriber]struct{})
	}
	h.subs[s] = struct{}{}
	h.n.Add(1)
	if h.wanted == nil {
		h.wanted = make(chan struct{})
	}
	if !h.asked {
		h.asked = true
		close(h.wanted)
	}
	h.mu.Unlock()
	var once sync.Once
	return s.ch, func() {
		once.Do(func() {
			h.mu.Lock()
			delete(h.subs, s)
			h.n.Add(-1)
			close(s.ch)
			h.mu.Unlock()
		})
	}
}

// active reports whether anyone listens (cheap: an atomic load).
func (h *eventHub) active() bool { return h.n.Load() > 0 }

// emit delivers e to every subscriber that has room.
func (h *eventHub) emit(e Event) {
	if !h.active() {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		ev := e
		ev.Resync = s.missed
		select {
		case s.ch <- ev:
			s.missed = false
		default:
			s.missed = true
		}
	}
}

// emitCommit reports a committed batch of results and failures.
func (c *Coordinator) emitCommit(in []store.Incoming, failures []store.Failure, rep *store.CommitReport, took time.Duration) {
	if !c.events.active() || rep == nil {
		return
	}
	ce := &CommitEvent{Failures: failures, Report: *rep, Took: took}
	for _, r := range in {
		p := r.Result.Provenance
		cr := CommittedResult{Sweep: r.Result.Sweep, TaskID: r.Result.TaskID, Status: r.Result.Status,
			Worker: p.Worker, Attempt: p.Attempt}
		if !p.StartedAt.IsZero() && p.FinishedAt.After(p.StartedAt) {
			cr.RunSeconds = p.FinishedAt.Sub(p.StartedAt).Seconds()
		}
		ce.Results = append(ce.Results, cr)
	}
	c.events.emit(Event{At: time.Now(), Commit: ce})
}

// progressLoop relays the workers' progress messages (plain NATS,
// advisory) to the subscribers until ctx is done. It subscribes at the
// first subscription only, so that a coordinator nobody watches receives
// no progress traffic, and decodes nothing while nobody listens.
func (c *Coordinator) progressLoop(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case <-c.events.wantedCh():
	}
	sub, err := c.nc.Subscribe(protocol.ProgressSubjects, func(m *nats.Msg) {
		if !c.events.active() {
			return
		}
		p, err := protocol.DecodeProgress(m.Data)
		if err != nil {
			c.log.Debug("progress message ignored", "subject", m.Subject, "err", err)
			return
		}
		c.events.emit(Event{At: time.Now(), Progress: p})
	})
	if err != nil {
		c.log.Warn("no progress events", "err", err)
		<-ctx.Done()
		return nil
	}
	// A slow watcher makes the client drop progress messages, never
	// block: they are advisory.
	_ = sub.SetPendingLimits(4096, 16<<20)
	<-ctx.Done()
	_ = sub.Unsubscribe()
	return nil
}
