package coordinator

import (
	"context"
	"errors"

	"github.com/sgsweep/sgsweep/protocol"
	"github.com/sgsweep/sgsweep/results"
)

// HasResult answers a worker's question before it trains a task: whether the
// store already holds the task's result (a redelivery after a crash between
// commit and ack). It reads one key of the store.
func (c *Coordinator) HasResult(ctx context.Context, req protocol.HasResultRequest) (*protocol.HasResultReply, error) {
	if req.TaskID == "" {
		return nil, badRequest(errors.New("task_id is empty"))
	}
	state, _, found, err := c.store.TaskState(ctx, req.TaskID)
	if err != nil {
		return nil, err
	}
	if !found {
		return &protocol.HasResultReply{}, nil
	}
	done := state == results.StateDone || state == results.StateStopped
	return &protocol.HasResultReply{Done: done, State: state}, nil
}
