package dashboard

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/sgsweep/sgsweep/results"
)

// recordLooker is a source that reads one task's record by its ID
// ((*store.Store).Record) instead of walking the sweep.
type recordLooker interface {
	Record(ctx context.Context, sweep, taskID string) (*results.Record, error)
}

// errFound stops a walk over the records.
var errFound = errors.New("found")

// findRecord returns the record of one task of the sweep: by ID when src
// can look one up, else from a walk over the sweep's records. A task the
// sweep does not plan is an error wrapping results.ErrNotFound.
func findRecord(ctx context.Context, src results.RecordSource, sweep, id string) (*results.Record, error) {
	if l, ok := src.(recordLooker); ok {
		return l.Record(ctx, sweep, id)
	}
	var rec *results.Record
	err := src.Records(ctx, sweep, func(x *results.Record) error {
		if x.TaskID != id {
			return nil
		}
		c := *x
		c.Params = bytes.Clone(x.Params)
		rec = &c
		return errFound
	})
	if err != nil && !errors.Is(err, errFound) {
		return nil, err
	}
	if rec == nil {
		return nil, fmt.Errorf("sweep %q plans no task %q: %w", sweep, id, results.ErrNotFound)
	}
	return rec, nil
}
