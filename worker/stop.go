package worker

import (
	"context"
	"log/slog"

	"github.com/sgsweep/sgsweep/protocol"
	"github.com/sgsweep/sgsweep/sim"
)

// stopListener hears the coordinator's stop decision for one run of a task
// whose sweep has stopping rules (protocol.TaskMsg.Stopping): each epoch's
// progress message but the last goes out as a request, and a reply that
// carries a decision ends the run at the first epoch boundary at or after
// the decision's epoch. Its methods are called from the run's OnEpoch and
// Stop, one at a time.
type stopListener struct {
	w       *Worker
	ctx     context.Context
	subject string
	log     *slog.Logger
	// decision is the first stop decision a reply carried; decisions are
	// final, so later ones (the same, repeated) are not read.
	decision *protocol.StopDecision
}

// ask sends one epoch's progress message (data) as a request on the task's
// progress subject and waits at most ProgressReplyTimeout for the reply.
// No reply in time, nobody listening, or a reply that does not decode: the
// run continues.
func (s *stopListener) ask(data []byte, epoch int) {
	ctx, cancel := context.WithTimeout(s.ctx, s.w.cfg.ProgressReplyTimeout)
	defer cancel()
	msg, err := s.w.nc.RequestWithContext(ctx, s.subject, data)
	if err != nil {
		s.log.Debug("progress request unanswered; continuing", "epoch", epoch, "err", err)
		return
	}
	reply, err := protocol.DecodeProgressReply(msg.Data)
	if err != nil {
		s.log.Warn("unusable progress reply; continuing", "epoch", epoch, "err", err)
		return
	}
	if reply.Stop != nil && s.decision == nil {
		s.decision = reply.Stop
		s.log.Info("stop decision heard", "epoch", epoch, "stop_after", reply.Stop.Epoch, "rule", reply.Stop.Rule)
	}
}

// stop is the run's sim.Options.Stop: whether a decision has been heard
// whose epoch is e's or an earlier one.
func (s *stopListener) stop(e sim.Epoch) bool {
	return s.decision != nil && e.Epoch >= s.decision.Epoch
}
