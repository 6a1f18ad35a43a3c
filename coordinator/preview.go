package coordinator

import (
	"context"
	"fmt"

	"github.com/sgsweep/sgsweep/results/store"
	"github.com/sgsweep/sgsweep/sweep"
)

// EndpointPreview is the control endpoint of a dry-run submit.
const EndpointPreview = "preview"

// PlanPreview is what submitting a spec would do (store.Preview), with
// the diff against the sweep's spec when it changed.
type PlanPreview struct {
	store.Preview
	Diff []string `json:"diff,omitempty"`
}

// Preview is a dry-run Submit: it parses and expands the spec and reports
// what planning it would do, writing nothing.
func (c *Coordinator) Preview(ctx context.Context, req SubmitRequest) (*PlanPreview, error) {
	spec, tasks, err := req.expand()
	if err != nil {
		return nil, err
	}
	return PreviewSpec(ctx, c.store, spec, tasks)
}

// PreviewSpec reports what planning an expanded spec in store would do. It
// only reads: store may be open read-only.
func PreviewSpec(ctx context.Context, st *store.Store, spec *sweep.Spec, tasks []sweep.Task) (*PlanPreview, error) {
	plan, err := newPlan(spec, tasks, "", nil)
	if err != nil {
		return nil, err
	}
	pv, err := st.PreviewPlan(ctx, plan)
	if err != nil {
		return nil, err
	}
	out := &PlanPreview{Preview: *pv}
	if pv.Outcome == store.PreviewChanged {
		out.Diff = sweep.Diff(pv.OldCanonical, plan.Canonical)
	}
	out.OldCanonical = nil
	return out, nil
}

// newPlan is the store's plan of an expanded spec (source is the spec file
// as written, kept with the sweep). The plan keeps each task's ID and
// params only (store.PlanTasks), neither hashed nor copied again.
func newPlan(spec *sweep.Spec, tasks []sweep.Task, sourceName string, source []byte) (*store.Plan, error) {
	for i := range tasks {
		if tasks[i].Ordinal != i {
			return nil, fmt.Errorf("task %s has ordinal %d at position %d", tasks[i].ID, tasks[i].Ordinal, i)
		}
	}
	return &store.Plan{
		Name:        spec.Name,
		Fingerprint: spec.Fingerprint(),
		Canonical:   spec.Canonical(),
		SourceName:  sourceName,
		Source:      source,
		Tasks:       store.PlanTasks(tasks),
	}, nil
}
