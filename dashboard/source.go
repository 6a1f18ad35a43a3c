package dashboard

import (
	"context"

	"github.com/sgsweep/sgsweep/coordinator"
	"github.com/sgsweep/sgsweep/results"
	"github.com/sgsweep/sgsweep/results/store"
)

// Source is what the pages read: the sweeps' records (queries, export,
// the task page) and their status.
type Source interface {
	results.RecordSource
	// Status reports one sweep, or all when sweep is empty; an unknown
	// sweep is an error wrapping results.ErrNotFound.
	Status(ctx context.Context, sweep string) (*coordinator.Status, error)
}

// Live is a running coordinator: its events, and the actions that change
// a sweep. *coordinator.Coordinator implements it.
type Live interface {
	Subscribe(buffer int) (<-chan coordinator.Event, func())
	Cancel(ctx context.Context, req coordinator.CancelRequest) (*coordinator.CancelReply, error)
	Retry(ctx context.Context, req coordinator.RetryRequest) (*coordinator.RetryReply, error)
}

// StoreSource reads a store alone (no rate, ETA or queue): `sgsweep
// dashboard` on a store opened read-only.
func StoreSource(st *store.Store) Source { return storeSource{st} }

type storeSource struct{ *store.Store }

func (s storeSource) Status(ctx context.Context, sweep string) (*coordinator.Status, error) {
	return coordinator.StoreStatus(ctx, s.Store, sweep)
}

// CoordinatorSource reads the running coordinator's store, with the
// status only the coordinator knows (rate, ETA, queue).
func CoordinatorSource(st *store.Store, c *coordinator.Coordinator) Source {
	return coordSource{st, c}
}

type coordSource struct {
	*store.Store
	c *coordinator.Coordinator
}

func (s coordSource) Status(ctx context.Context, sweep string) (*coordinator.Status, error) {
	return s.c.Status(ctx, coordinator.StatusRequest{Sweep: sweep})
}
