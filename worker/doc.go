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
//   - a result (ok, or diverged: a NaN loss is an outcome): published, then
//     the task is acked;
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
