package protocol

// EndpointHasResult is the control endpoint (sgsweep.ctl.has-result) a
// worker asks before it trains a task: does the store already hold the
// task's result? Its types live here, not in package coordinator, so that
// the worker can ask without importing the coordinator (and bbolt).
const EndpointHasResult = "has-result"

// HasResultRequest asks whether a task already has a stored result.
type HasResultRequest struct {
	TaskID string `json:"task_id"`
}

// HasResultReply answers a HasResultRequest. Done is true only when the
// store holds an ok or diverged result for the task (in any sweep: task IDs
// are global); a failed or pending task, or one the store does not know, is
// not done and is trained.
type HasResultReply struct {
	Done bool `json:"done"`
	// State is the task's state in the store (pending, done or failed), ""
	// if the store does not know the task.
	State string `json:"state,omitempty"`
}
