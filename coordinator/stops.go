package coordinator

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sgsweep/sgsweep/coordinator/stopping"
	"github.com/sgsweep/sgsweep/protocol"
	"github.com/sgsweep/sgsweep/results"
	"github.com/sgsweep/sgsweep/results/store"
	"github.com/sgsweep/sgsweep/sim"
	"github.com/sgsweep/sgsweep/sweep"
)

// Early stopping (docs/stopping.md). A worker running a task whose message
// has Stopping set sends each epoch's progress message as a request; the
// coordinator answers it with a protocol.ProgressReply. The decisions are
// taken by a Decider per sweep with a stopping block, fed with the
// progress of running tasks (Observe) and the curves of finished ones
// (Finished), and committed to the store (Store.CommitStop, synced to
// disk) before the reply that carries them is sent: a decision a worker
// heard of survives any crash, and a committed decision is never taken
// again differently. A task with a committed decision is answered with it
// at every request, also after a restart; the worker ends the run at the
// first epoch at or after the decision's and publishes a stopped result,
// which the store accepts only with that decision.

// Decider takes the stopping decisions of one sweep; *stopping.Engine is
// the coordinator's (DefaultDecider). Calls are serialised.
type Decider interface {
	// Observe is told a running task's values after one epoch and
	// returns the decision to stop it after that epoch, or nil.
	Observe(t stopping.Task, ep sim.Epoch, now time.Time) *protocol.StopDecision
	// Finished is told a finished task's curve and result status (ok,
	// diverged or stopped).
	Finished(t stopping.Task, status string, epochs []sim.Epoch)
}

// decidedTeller is implemented by Deciders that are told of committed
// decisions: those read back from the store on (re)start, and each one the
// coordinator commits.
type decidedTeller interface {
	Decided(t stopping.Task, d *protocol.StopDecision)
}

// DefaultDecider is the decider of a sweep's spec under the spec's stopping
// block, nil when it has none.
func DefaultDecider(spec *sweep.Spec) Decider {
	if spec.Stopping() == nil {
		return nil
	}
	return stopping.New(spec.Stopping())
}

// StopDelayEnv names an environment variable for tests only: a duration
// (e.g. 5s) the coordinator sleeps after committing a stop decision and
// before replying with it, so that a test can kill it in between.
const StopDelayEnv = "SGSWEEP_TEST_STOP_DELAY"

// stopDelay reads StopDelayEnv (0 when unset or unreadable).
func stopDelay(log interface{ Warn(string, ...any) }) time.Duration {
	s := os.Getenv(StopDelayEnv)
	if s == "" {
		return 0
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		log.Warn("ignoring "+StopDelayEnv, "err", err)
		return 0
	}
	log.Warn(StopDelayEnv+" is set: stop decisions are delayed (for tests only)", "delay", d)
	return d
}

// stopBook holds the stopping state of the sweeps the coordinator has
// looked at, by name.
type stopBook struct {
	mu     sync.Mutex
	sweeps map[string]*sweepStops
}

// sweepStops is one sweep's stopping state. dec is nil for a sweep without
// a stopping block; the rest is then unused.
type sweepStops struct {
	name string
	dec  Decider
	sub  *nats.Subscription

	// mu serialises dec's calls and guards what follows.
	mu sync.Mutex
	// decided holds the committed decisions in force, overridden the
	// tasks whose decision `retry --stopped` overrode: both read from the
	// store when the state is made, then kept up to date.
	decided    map[string]*protocol.StopDecision
	overridden map[string]bool
	// fed is set once dec has been given the stored results; finished
	// holds the tasks whose curve it has.
	fed      bool
	finished map[string]bool

	// qmu guards queue: results committed since, for dec's Finished. The
	// commit loop only appends to it, so it never waits for a decision.
	qmu   sync.Mutex
	queue []*protocol.ResultMsg
}

// stopsOf returns the sweep's stopping state, making it (parsing the spec
// the sweep was planned from, reading its decisions and subscribing to its
// progress requests) the first time.
func (c *Coordinator) stopsOf(ctx context.Context, name string) (*sweepStops, error) {
	b := &c.stops
	b.mu.Lock()
	defer b.mu.Unlock()
	if ss := b.sweeps[name]; ss != nil {
		return ss, nil
	}
	ss, err := c.newSweepStops(ctx, name)
	if err != nil {
		return nil, err
	}
	if b.sweeps == nil {
		b.sweeps = make(map[string]*sweepStops)
	}
	b.sweeps[name] = ss
	return ss, nil
}

// newSweepStops makes a sweep's stopping state: see stopsOf.
func (c *Coordinator) newSweepStops(ctx context.Context, name string) (*sweepStops, error) {
	canonical, sourceName, source, err := c.store.SweepSpec(ctx, name)
	if err != nil {
		return nil, err
	}
	if c.cfg.NewDecider == nil && !sweep.CanonicalHasStopping(canonical) {
		// Parsing validates every task (seconds for 10⁶ tasks): only the
		// sweeps with a stopping block need it.
		return &sweepStops{name: name}, nil
	}
	spec, err := sweep.Parse(sourceName, source)
	if err != nil {
		// Planned by another version of sgsweep: its tasks run to the end.
		c.log.Error("no early stopping: the sweep's stored spec does not parse", "sweep", name, "err", err)
		return &sweepStops{name: name}, nil
	}
	ss := &sweepStops{name: name, dec: c.cfg.newDecider(spec)}
	if ss.dec == nil {
		return ss, nil
	}
	ss.decided, ss.overridden, ss.finished = map[string]*protocol.StopDecision{}, map[string]bool{}, map[string]bool{}
	err = c.store.StopDecisions(ctx, name, func(r store.StopRecord) error {
		if r.Overridden.IsZero() {
			ss.decided[r.TaskID] = &r.Decision
		} else {
			ss.overridden[r.TaskID] = true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Requests must be answered whether or not anyone watches events;
	// the subscription takes the sweep's plain progress messages too,
	// which it drops undecoded. It outlives the caller's ctx (a request's)
	// and ends with Run (closeStops).
	bg := context.WithoutCancel(ctx)
	ss.sub, err = c.nc.Subscribe(protocol.SweepProgressSubjects(name), func(m *nats.Msg) {
		if m.Reply != "" {
			c.answerProgress(bg, ss, m)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("sweep %s: subscribe to its progress requests: %w", name, err)
	}
	c.log.Info("early stopping", "sweep", name, "decisions", len(ss.decided), "overridden", len(ss.overridden))
	return ss, nil
}

// renewStops makes a sweep's stopping state afresh from the store: after
// its spec changed (an extension) or `retry --stopped` overrode decisions.
// A failure is logged; the state is then made at the next publication.
func (c *Coordinator) renewStops(ctx context.Context, name string) {
	b := &c.stops
	b.mu.Lock()
	ss := b.sweeps[name]
	delete(b.sweeps, name)
	b.mu.Unlock()
	if ss != nil && ss.sub != nil {
		_ = ss.sub.Unsubscribe()
	}
	if _, err := c.stopsOf(ctx, name); err != nil {
		c.log.Warn("early stopping of a sweep: retrying at its next publication", "sweep", name, "err", err)
	}
}

// watchStops makes the stopping state of every sweep, so that requests of
// tasks queued or running before a restart are answered: also those of a
// done or cancelled sweep, whose late runs (a redelivery) are told their
// committed decision.
func (c *Coordinator) watchStops(ctx context.Context) error {
	sweeps, err := c.store.Sweeps(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, info := range sweeps {
		if _, err := c.stopsOf(ctx, info.Name); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// closeStops ends the subscriptions to progress requests (when Run
// returns).
func (c *Coordinator) closeStops() {
	b := &c.stops
	b.mu.Lock()
	defer b.mu.Unlock()
	for name, ss := range b.sweeps {
		if ss.sub != nil {
			_ = ss.sub.Unsubscribe()
		}
		delete(b.sweeps, name)
	}
}

// markStopping sets Stopping on the task messages of a sweep with a
// stopping block, except those whose decision was overridden.
func (c *Coordinator) markStopping(ctx context.Context, sweepName string, tasks []*protocol.TaskMsg) error {
	if len(tasks) == 0 {
		return nil
	}
	ss, err := c.stopsOf(ctx, sweepName)
	if err != nil || ss.dec == nil {
		return err
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for _, t := range tasks {
		t.Stopping = !ss.overridden[t.TaskID]
	}
	return nil
}

// answerProgress answers one progress request. An undecodable one, or one
// whose subject is not its task's, gets no answer; a store failure neither
// (the worker goes on and asks again after the next epoch).
func (c *Coordinator) answerProgress(ctx context.Context, ss *sweepStops, m *nats.Msg) {
	p, err := protocol.DecodeProgress(m.Data)
	if err == nil && m.Subject != protocol.ProgressSubject(p.Sweep, p.TaskID) {
		err = fmt.Errorf("progress of task %s of sweep %s on subject %s", p.TaskID, p.Sweep, m.Subject)
	}
	if err != nil {
		c.log.Debug("progress request ignored", "subject", m.Subject, "err", err)
		return
	}
	d, err := c.decide(ctx, ss, p)
	if err != nil {
		c.log.Warn("progress request unanswered", "sweep", p.Sweep, "task", p.TaskID, "err", err)
		return
	}
	data, err := json.Marshal(protocol.ProgressReply{Schema: protocol.SchemaProgressReply, Stop: d})
	if err == nil {
		err = m.Respond(data)
	}
	if err != nil {
		c.log.Warn("reply to a progress request", "sweep", p.Sweep, "task", p.TaskID, "err", err)
	}
}

// decide returns the stop decision for a task after the epoch of a
// progress message, nil to let it go on: its committed decision if it has
// one, else the decider's, committed first. Tasks the sweep does not plan,
// settled tasks without a decision and tasks whose decision was
// overridden go on.
func (c *Coordinator) decide(ctx context.Context, ss *sweepStops, p *protocol.ProgressMsg) (*protocol.StopDecision, error) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.dec == nil || ss.overridden[p.TaskID] {
		return nil, nil
	}
	if d := ss.decided[p.TaskID]; d != nil {
		return d, nil
	}
	if err := c.feed(ctx, ss); err != nil {
		return nil, err
	}
	params, state, planned, err := c.store.TaskOf(ctx, ss.name, p.TaskID)
	if err != nil || !planned || state != results.StatePending {
		return nil, err
	}
	task := stopping.Task{ID: p.TaskID, Params: params}
	d := ss.dec.Observe(task, p.Epoch, time.Now().UTC())
	if d == nil {
		return nil, nil
	}
	binding, err := c.store.CommitStop(ctx, ss.name, p.TaskID, d)
	if err != nil {
		return nil, err
	}
	ss.decided[p.TaskID] = binding
	if t, ok := ss.dec.(decidedTeller); ok {
		t.Decided(task, binding)
	}
	c.log.Info("stop decision committed", "sweep", ss.name, "task", p.TaskID, "epoch", binding.Epoch,
		"rule", binding.Rule, "value", binding.Value, "threshold", binding.Threshold)
	time.Sleep(c.stopDelay) // 0 but in tests (StopDelayEnv): a kill lands here
	return binding, nil
}

// feed gives the decider what it has not been given yet: on the first
// call the sweep's stored results, in the order their workers finished
// them (the store keeps no commit sequence; this is the commit order up to
// batching and clock skew), and the decisions in force; then the results
// committed since.
func (c *Coordinator) feed(ctx context.Context, ss *sweepStops) error {
	if !ss.fed {
		var done []*results.Record
		params := map[string]json.RawMessage{}
		err := c.store.Records(ctx, ss.name, func(r *results.Record) error {
			if ss.decided[r.TaskID] != nil {
				params[r.TaskID] = r.Params
			}
			if r.Result != nil && r.Result.Result != nil && (r.State == results.StateDone || r.State == results.StateStopped) {
				rec := *r
				done = append(done, &rec)
			}
			return nil
		})
		if err != nil {
			return err
		}
		slices.SortStableFunc(done, func(a, b *results.Record) int {
			return a.Result.Provenance.FinishedAt.Compare(b.Result.Provenance.FinishedAt)
		})
		for _, r := range done {
			ss.finish(stopping.Task{ID: r.TaskID, Params: r.Params}, r.Result)
		}
		if t, ok := ss.dec.(decidedTeller); ok {
			ids := make([]string, 0, len(ss.decided))
			for id := range ss.decided {
				ids = append(ids, id)
			}
			slices.SortFunc(ids, func(a, b string) int {
				return cmp.Or(ss.decided[a].DecidedAt.Compare(ss.decided[b].DecidedAt), cmp.Compare(a, b))
			})
			for _, id := range ids {
				t.Decided(stopping.Task{ID: id, Params: params[id]}, ss.decided[id])
			}
		}
		ss.fed = true
	}
	ss.qmu.Lock()
	queue := ss.queue
	ss.queue = nil
	ss.qmu.Unlock()
	for _, r := range queue {
		ss.finish(stopping.Task{ID: r.TaskID, Params: r.Params}, r)
	}
	return nil
}

// finish gives the decider a finished task's curve, once per task.
func (ss *sweepStops) finish(t stopping.Task, r *protocol.ResultMsg) {
	if ss.finished[t.ID] || r.Result == nil {
		return
	}
	ss.finished[t.ID] = true
	ss.dec.Finished(t, r.Status, r.Result.Epochs)
}

// stopsCommitted queues the results of a commit that settled their task
// for the deciders of their sweeps (fed at the next request). It never
// waits for a decision.
func (c *Coordinator) stopsCommitted(in []store.Incoming, rep *store.CommitReport) {
	if rep == nil || len(rep.Settled) == 0 {
		return
	}
	settled := make(map[string]bool, len(rep.Settled))
	for _, id := range rep.Settled {
		settled[id] = true
	}
	b := &c.stops
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, r := range in {
		if !settled[r.Result.TaskID] || r.Result.Result == nil {
			continue
		}
		ss := b.sweeps[r.Result.Sweep]
		if ss == nil || ss.dec == nil {
			continue // made from the store when needed
		}
		ss.qmu.Lock()
		ss.queue = append(ss.queue, r.Result)
		ss.qmu.Unlock()
	}
}

// newDecider is Config.NewDecider, DefaultDecider when unset.
func (c *Config) newDecider(spec *sweep.Spec) Decider {
	if c.NewDecider != nil {
		return c.NewDecider(spec)
	}
	return DefaultDecider(spec)
}
