package coordinator

import (
	"context"
	"time"

	"github.com/sgsweep/sgsweep/results/store"
)

// Status sources.
const (
	SourceCoordinator = "coordinator" // answered by the running coordinator
	SourceStore       = "store"       // read from the store (no coordinator)
)

// StatusRequest asks for one sweep, or all when Sweep is empty.
type StatusRequest struct {
	Sweep string `json:"sweep,omitempty"`
}

// Status is what `sgsweep status` shows.
type Status struct {
	// Source says who answered: the coordinator, or the store read
	// directly (then there is no rate, ETA or queue).
	Source string        `json:"source"`
	At     time.Time     `json:"at"`
	Sweeps []SweepStatus `json:"sweeps"`
	Totals store.Totals  `json:"totals"`
	// Rejected lists the last messages set aside as unusable.
	Rejected []store.Rejection `json:"rejected,omitempty"`
	// Orphans counts the results set aside because their task was not
	// handed out (among the last rejected messages, see Orphans);
	// OrphanList holds the last few.
	Orphans    int      `json:"orphans,omitempty"`
	OrphanList []Orphan `json:"orphan_list,omitempty"`
	// Rate is the tasks settled per second over the coordinator's rate
	// window, over all sweeps.
	Rate  float64      `json:"rate"`
	Queue *QueueStatus `json:"queue,omitempty"`
}

// SweepStatus is one sweep's counts and progress.
type SweepStatus struct {
	store.SweepInfo
	// ETASeconds estimates the time to settle the pending tasks at the
	// current rate; 0 when unknown or finished.
	ETASeconds float64 `json:"eta_seconds,omitempty"`
	// ConflictList holds the first conflicts (differing results of one
	// task), if any.
	ConflictList []store.Conflict `json:"conflict_list,omitempty"`
	// FailedList holds the first failed tasks and their errors, if any.
	FailedList []store.FailedTask `json:"failed_list,omitempty"`
	// DisputeList holds the first disputed tasks (verification by
	// recomputation gave differing results) and their workers, if any.
	DisputeList []store.Dispute `json:"dispute_list,omitempty"`
}

// QueueStatus is the worker consumer's view of the task queue (all sweeps).
type QueueStatus struct {
	// Waiting counts tasks not yet delivered; Running tasks delivered and
	// not yet acked; Redelivered tasks delivered more than once and not yet
	// acked; IdleSlots worker slots waiting for a task.
	Waiting     uint64 `json:"waiting"`
	Running     int    `json:"running"`
	Redelivered int    `json:"redelivered"`
	IdleSlots   int    `json:"idle_slots"`
}

// Status reports one sweep (or all) from the store, with the rate, ETA and
// queue only the coordinator knows.
func (c *Coordinator) Status(ctx context.Context, req StatusRequest) (*Status, error) {
	st, err := StoreStatus(ctx, c.store, req.Sweep)
	if err != nil {
		return nil, err
	}
	st.Source = SourceCoordinator
	st.Rate = c.rate.perSecond(st.At)
	for i := range st.Sweeps {
		s := &st.Sweeps[i]
		if st.Rate > 0 && s.State == store.SweepRunning {
			s.ETASeconds = float64(s.Pending) / st.Rate
		}
	}
	if s, err := c.current(); err == nil {
		if info, err := s.Workers.Info(ctx); err == nil {
			st.Queue = &QueueStatus{Waiting: info.NumPending, Running: info.NumAckPending,
				Redelivered: info.NumRedelivered, IdleSlots: info.NumWaiting}
		}
	}
	return st, nil
}

// StoreStatus reports one sweep (or all) from a store alone; an unknown
// sweep is an error wrapping results.ErrNotFound.
func StoreStatus(ctx context.Context, db *store.Store, sweepName string) (*Status, error) {
	st := &Status{Source: SourceStore, At: time.Now().UTC()}
	var infos []store.SweepInfo
	if sweepName != "" {
		info, err := db.Sweep(ctx, sweepName)
		if err != nil {
			return nil, err
		}
		infos = []store.SweepInfo{*info}
	} else {
		var err error
		if infos, err = db.Sweeps(ctx); err != nil {
			return nil, err
		}
	}
	for _, info := range infos {
		s := SweepStatus{SweepInfo: info}
		if info.Conflicts > 0 {
			list, err := db.Conflicts(ctx, info.Name, 10)
			if err != nil {
				return nil, err
			}
			s.ConflictList = list
		}
		if info.Disputed > 0 {
			list, err := db.Disputes(ctx, info.Name, 10)
			if err != nil {
				return nil, err
			}
			s.DisputeList = list
		}
		if info.Failed > 0 {
			list, err := db.FailedTasks(ctx, info.Name, 5)
			if err != nil {
				return nil, err
			}
			s.FailedList = list
		}
		st.Sweeps = append(st.Sweeps, s)
	}
	var err error
	if st.Totals, err = db.Totals(ctx); err != nil {
		return nil, err
	}
	if st.Totals.Rejected > 0 {
		if st.Rejected, _, err = db.Rejected(ctx, 5); err != nil {
			return nil, err
		}
		for i := range st.Rejected {
			st.Rejected[i].Data = nil // status shows reasons, not bodies
		}
		if st.Orphans, st.OrphanList, err = Orphans(ctx, db, 5); err != nil {
			return nil, err
		}
	}
	return st, nil
}
