package coordinator

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sgsweep/sgsweep/protocol"
	"github.com/sgsweep/sgsweep/results"
	"github.com/sgsweep/sgsweep/results/store"
	"github.com/sgsweep/sgsweep/sweep"
)

// ErrSpecChanged is wrapped by the error that refuses a changed spec, a
// *store.SpecChangedError (its Diff shows the change).
var ErrSpecChanged = store.ErrSpecChanged

// SubmitRequest carries a spec file to the coordinator.
type SubmitRequest struct {
	// SpecName is the file name, for error messages; Spec its content.
	SpecName string `json:"spec_name"`
	Spec     []byte `json:"spec"`
	// SpecObject, when set, names the object of SpecBucket that holds the
	// spec instead of Spec: Client sends a spec that way when the request
	// would exceed the server's max_payload (see Client.Submit).
	SpecObject string `json:"spec_object,omitempty"`
	// Extend accepts a spec that changed since the sweep was planned.
	Extend bool `json:"extend,omitempty"`
}

// Submit parses and plans a spec; its pending tasks are then published. The
// same name and spec resume the sweep; a changed spec is a
// *store.SpecChangedError unless req.Extend.
func (c *Coordinator) Submit(ctx context.Context, req SubmitRequest) (*store.PlanReport, error) {
	spec, err := c.parse(ctx, &req)
	if err != nil {
		return nil, err
	}
	return c.SubmitSpec(ctx, spec, req.SpecName, req.Spec, req.Extend)
}

// SpecBucket is the JetStream object store bucket through which Client
// passes a spec too large for one request message; MaxSpecBytes bounds
// the specs the coordinator reads from it.
const (
	SpecBucket   = "sgsweep-specs"
	MaxSpecBytes = 64 << 20
)

// parse parses the request's spec, reading it from SpecBucket first when
// the request names an object; errors are bad requests.
func (c *Coordinator) parse(ctx context.Context, req *SubmitRequest) (*sweep.Spec, error) {
	if req.SpecObject != "" {
		if len(req.Spec) > 0 {
			return nil, badRequest(errors.New("a submit request carries either a spec or a spec object, not both"))
		}
		data, err := c.specObject(ctx, req.SpecObject)
		if err != nil {
			return nil, err
		}
		req.Spec = data
	}
	spec, err := sweep.Parse(req.SpecName, req.Spec)
	if err != nil {
		return nil, badRequest(err)
	}
	return spec, nil
}

// specObject reads a spec uploaded to SpecBucket.
func (c *Coordinator) specObject(ctx context.Context, name string) ([]byte, error) {
	obs, err := c.js.ObjectStore(ctx, SpecBucket)
	if err != nil {
		return nil, badRequest(fmt.Errorf("spec object %q: object store %s: %w", name, SpecBucket, err))
	}
	info, err := obs.GetInfo(ctx, name)
	if err != nil {
		return nil, badRequest(fmt.Errorf("spec object %q: %w", name, err))
	}
	if info.Size > MaxSpecBytes {
		return nil, badRequest(fmt.Errorf("spec object %q is %d bytes, over the coordinator's limit of %d", name,
			info.Size, MaxSpecBytes))
	}
	data, err := obs.GetBytes(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("spec object %q: %w", name, err)
	}
	return data, nil
}

// SubmitSpec plans a parsed spec (source is the file as written, kept with
// the sweep). The expansion is streamed into the store (spec.Tasks), so
// that memory does not grow with the number of tasks.
func (c *Coordinator) SubmitSpec(ctx context.Context, spec *sweep.Spec, sourceName string, source []byte,
	extend bool) (*store.PlanReport, error) {
	plan := newPlan(spec, sourceName, source)
	plan.Extend = extend
	rep, err := c.store.PlanSweep(ctx, plan)
	if err != nil {
		return nil, err
	}
	c.log.Info("sweep planned", "sweep", rep.Sweep, "outcome", rep.Outcome, "tasks", rep.Tasks,
		"added", rep.Added, "dropped", rep.Dropped, "done", rep.Done, "stopped", rep.Stopped, "failed", rep.Failed,
		"pending", rep.Pending)
	if rep.Outcome != store.PlanResumed {
		c.renewStops(ctx, rep.Sweep) // a new spec (stops.go)
		c.forgetVerify(rep.Sweep)    // verify.go
	}
	c.kickPublisher()
	return rep, nil
}

// CancelRequest names the sweep to cancel.
type CancelRequest struct {
	Sweep string `json:"sweep"`
}

// CancelReply says how many queued tasks were withdrawn.
type CancelReply struct {
	Sweep     string `json:"sweep"`
	Withdrawn int    `json:"withdrawn"`
	State     string `json:"state"`
}

// Cancel withdraws a sweep's queued tasks and marks it cancelled; tasks
// running on workers finish and their results are stored. Submitting the
// spec again resumes the sweep.
func (c *Coordinator) Cancel(ctx context.Context, req CancelRequest) (*CancelReply, error) {
	s, err := c.current()
	if err != nil {
		return nil, err
	}
	c.publishMu.Lock()
	n, err := c.store.Cancel(ctx, req.Sweep)
	if err == nil {
		if perr := s.Tasks.Purge(ctx, jetstream.WithPurgeSubject(protocol.SweepTaskSubjects(req.Sweep))); perr != nil {
			err = fmt.Errorf("withdraw the tasks of %q: %w", req.Sweep, perr)
		}
	}
	c.publishMu.Unlock()
	if err != nil {
		return nil, err
	}
	info, err := c.store.Sweep(ctx, req.Sweep)
	if err != nil {
		return nil, err
	}
	c.log.Info("sweep cancelled", "sweep", req.Sweep, "withdrawn", n)
	// Tasks that another running sweep plans too are published again
	// under that sweep.
	c.kickPublisher()
	return &CancelReply{Sweep: req.Sweep, Withdrawn: n, State: info.State}, nil
}

// RetryRequest asks to run a sweep's failed tasks again (Failed), to
// train its stopped tasks to the end (Stopped), and to compute its
// disputed tasks on a third worker (Disputed, verify.go). A request with
// none retries the failed tasks (as before Stopped existed).
type RetryRequest struct {
	Sweep    string `json:"sweep"`
	Failed   bool   `json:"failed,omitempty"`
	Stopped  bool   `json:"stopped,omitempty"`
	Disputed bool   `json:"disputed,omitempty"`
}

// RetryReply says how many failed tasks (Retried), stopped tasks
// (Stopped) and disputed tasks (Disputed) were queued again.
type RetryReply struct {
	Sweep    string `json:"sweep"`
	Retried  int    `json:"retried"`
	Stopped  int    `json:"stopped,omitempty"`
	Disputed int    `json:"disputed,omitempty"`
}

// Retry makes the sweep's failed tasks, its stopped tasks or both pending
// again and publishes them with a new message ID. A stopped task's result
// is set aside and its decision marked overridden (Store.RetryStopped):
// it is trained to the end, with no stop decision.
func (c *Coordinator) Retry(ctx context.Context, req RetryRequest) (*RetryReply, error) {
	rep := &RetryReply{Sweep: req.Sweep}
	if req.Failed || !req.Stopped && !req.Disputed {
		n, err := c.store.Retry(ctx, req.Sweep)
		if err != nil {
			return nil, err
		}
		c.log.Info("retrying failed tasks", "sweep", req.Sweep, "tasks", n)
		rep.Retried = n
	}
	if req.Stopped {
		// No publication may mark a task of the sweep Stopping from the
		// state made before the override.
		c.publishMu.Lock()
		n, err := c.store.RetryStopped(ctx, req.Sweep)
		if err == nil {
			c.renewStops(ctx, req.Sweep) // with the overrides
		}
		c.publishMu.Unlock()
		if err != nil {
			return nil, err
		}
		c.log.Info("training stopped tasks to the end", "sweep", req.Sweep, "tasks", n)
		rep.Stopped = n
	}
	if req.Disputed {
		n, err := c.retryDisputed(ctx, req.Sweep) // verify.go
		if err != nil {
			return nil, err
		}
		c.log.Info("computing disputed tasks on a third worker", "sweep", req.Sweep, "tasks", n)
		rep.Disputed = n
	}
	c.kickPublisher()
	return rep, nil
}

// Results runs a query (aggregation, filters, sorting) over a sweep's
// records in the store; see results.RunQuery (an unknown sweep is an error
// wrapping results.ErrNotFound).
func (c *Coordinator) Results(ctx context.Context, req results.QueryRequest) (*results.Table, error) {
	if err := req.Validate(); err != nil {
		return nil, badRequest(err)
	}
	tab, err := results.RunQuery(ctx, c.store, req)
	if err != nil {
		return nil, err
	}
	return tab, NoteDisputes(ctx, c.store, tab, req.Sweep) // verify.go
}
