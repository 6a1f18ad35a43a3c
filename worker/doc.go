// Package worker runs sweep tasks: it pulls task messages from the shared
// worker consumer of the SGSWEEP_TASKS stream (package coordinator creates
// it), one per free slot and never more (no prefetch: a prefetched task's
// ack timer would run while it waits), trains each with a Runner (sim.Train
// in the product), and publishes the result to SGSWEEP_RESULTS before it
// acks the task.
//
// While a task runs, the worker sends an in-progress heartbeat every third of
// the consumer's ack wait, so that only a worker that stops (crash, kill,
// network loss) has its task redelivered, and publishes each finished epoch
// on the plain subject sgsweep.progress.<sweep>.<task>.
//
// A task of a sweep with stopping rules (protocol.TaskMsg.Stopping) may be
// ended early by the coordinator. Its worker sends the progress message of
// every epoch but the last as a NATS request on the same subject and,
// before the next epoch starts, waits for the reply (a
// protocol.ProgressReply) at most ProgressReplyTimeout: no responder
// (nats.ErrNoResponders) returns at once, and no reply in time, or a reply
// that does not decode (logged as a warning), means continue. The first
// reply that carries a stop decision is remembered: the run ends at the
// first epoch boundary at or after the decision's epoch (normally that
// very epoch, since the worker waited; a task redelivered after a restart
// of the coordinator hears its committed decision early and trains on to
// it; one whose reply came too late stops at the next boundary). Through
// sim.Options.Stop the run ends as a run of that many epochs would, and the
// worker publishes its result with status stopped and the decision
// (protocol.ResultMsg.Stop). With ProcessRunner the task process waits for
// the worker's answer after each epoch (see child.go). A task without
// stopping rules sends plain progress messages and never waits.
//
// Before training, the worker asks the coordinator whether the task already
// has a stored result (protocol.EndpointHasResult, at most LookupTimeout)
// and acks it without training if so; no answer means train. A task whose
// memory estimate (sim.Config.MemoryEstimate) exceeds MaxTaskMemory fails
// at once, naming the estimate.
//
// The Runner trains in the worker's process (sim.Train) or, with
// ProcessRunner, in a child process per task (the same binary, re-executed;
// ServeTask is the child's side), so that a crash, an out-of-memory kill or
// a runaway task ends only that child.
//
// What happens to a task:
//   - a result (ok; diverged: a NaN loss is an outcome; stopped by the
//     coordinator's decision): published, then the task is acked;
//   - a deterministic failure (invalid configuration, *sim.FieldError; a
//     panic of the simulator; a task planned for another model version): a
//     failed result at once;
//   - any other error may be environmental (a data file missing on this
//     host, a task process that crashed or was killed): the task is handed back with a growing delay, and on its last
//     allowed delivery a failed result carrying the error is published;
//   - an unusable message (not JSON, unknown schema, ID that does not match
//     the parameters): terminated with the reason, which reaches the
//     coordinator as an advisory;
//   - on shutdown (Run's context cancelled, e.g. SIGTERM) the worker stops
//     taking tasks, lets running ones finish within DrainTimeout, then
//     cancels the rest and hands them back for immediate redelivery.
//
// A worker keeps nothing between tasks: start as many as there are machines.
package worker
