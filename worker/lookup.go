package worker

import (
	"context"
	"encoding/json"

	"github.com/nats-io/nats.go/micro"

	"github.com/sgsweep/sgsweep/protocol"
)

// hasResult asks the coordinator (protocol.EndpointHasResult) whether the
// task already has a stored result, waiting at most LookupTimeout. Any
// failure (no coordinator, an old one without the endpoint, a busy one, an
// error reply) is "no": the worker trains the task, as it would without the
// check.
func (w *Worker) hasResult(ctx context.Context, taskID string) bool {
	if w.cfg.LookupTimeout <= 0 {
		return false
	}
	data, err := json.Marshal(protocol.HasResultRequest{TaskID: taskID})
	if err != nil {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, w.cfg.LookupTimeout)
	defer cancel()
	msg, err := w.nc.RequestWithContext(ctx, protocol.ControlSubject(protocol.EndpointHasResult), data)
	if err != nil {
		w.log.Debug("result lookup unanswered; training", "task", taskID, "err", err)
		return false
	}
	if msg.Header.Get(micro.ErrorCodeHeader) != "" {
		w.log.Debug("result lookup refused; training", "task", taskID, "err", msg.Header.Get(micro.ErrorHeader))
		return false
	}
	var reply protocol.HasResultReply
	if err := json.Unmarshal(msg.Data, &reply); err != nil {
		return false
	}
	return reply.Done
}
