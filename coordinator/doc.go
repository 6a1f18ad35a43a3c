// Package coordinator runs sweeps over NATS JetStream: it plans a sweep in
// the results store before anything is published, publishes the pending
// tasks to a work-queue stream, commits the results workers publish (and
// only then acks them), records tasks that die as failed, marks sweeps done,
// and serves a control API (submit, status, cancel, retry) as a NATS micro
// service. Package worker is the other side of the queue; cmd/sgsweep wires
// both to flags, signals and, by default, an embedded NATS server
// (StartServer).
//
// # Streams and consumers (see EnsureStreams; names in package protocol)
//
//	SGSWEEP_TASKS    sgsweep.task.<sweep>.<task>   work queue, one message per
//	                 subject (a task is queued at most once), Nats-Msg-Id
//	                 t.<task>.g<gen>.<nonce>.<n>, unique per publication;
//	                 consumer "workers", shared by every worker: explicit
//	                 ack, AckWait = BackOff[0], MaxDeliver
//	SGSWEEP_RESULTS  sgsweep.result.<sweep>.<task>  work queue, Nats-Msg-Id
//	                 r.<task>.<digest[:16]>.s<seq>.d<n>; consumer "coordinator"
//	SGSWEEP_DLQ      the worker consumer's MAX_DELIVERIES and MSG_TERMINATED
//	                 advisories; consumer "coordinator-dlq"
//
// # Invariants
//
// The store is the source of truth; NATS carries work in flight.
//   - A sweep's plan is committed before any of its tasks is published.
//   - A result is acked only after the transaction that stores it has
//     committed; a redelivered result is absorbed (stored once per task).
//   - A worker acks a task only after its result's publication is
//     acknowledged, so a task is either in the task stream, or its result is
//     in the result stream or the store.
//   - A task that never yields a result (its workers crash or are killed) is
//     recorded failed after MaxDeliver deliveries; a deterministic failure is
//     a failed result at once. A sweep is done when every task is done or
//     failed.
//   - No two publications of a task share a Nats-Msg-Id, so the task
//     stream's dedupe window never drops a republication; the stream's
//     one-message-per-subject limit alone keeps a task queued at most once.
//   - A pending task of a running sweep is in the task stream, or its
//     result is in the result stream, or reconciliation (every
//     Config.ReconcileEvery) publishes it again: a purged stream or a lost
//     advisory delays a sweep, never stalls it. A task message that used up its deliveries is recorded
//     failed by its advisory or, if that is lost, by reconciliation.
//   - Planning holds a bounded number of tasks (store.PlanSweep reads
//     sweep.Spec.Tasks in chunks), whatever the size of the sweep.
//
// Resuming (Run after any crash) first commits the results waiting in the
// result stream, then reconciles the store's record of queued tasks with the
// streams (reconcile.go), then publishes only tasks that are pending and not
// queued.
//
// A result's Msg-Id (r.<task>.<digest[:16]>.s<seq>.d<n>, chosen by the
// worker) names the task message's stream sequence and delivery: the
// stream drops only the copies of one retried publication, never the
// result of another delivery, so after the result stream is purged a
// recomputed task's result is stored at once.
//
// # Early stopping
//
// For a sweep with a stopping block, task messages carry Stopping and the
// workers send each epoch's progress as a request (stops.go): the
// coordinator answers with the task's stop decision, taken by the sweep's
// Decider (stopping.Engine) and committed to the store (Store.CommitStop,
// synced) before the reply, or with none. A committed decision is the
// answer to every later request of its task, also after a restart, and
// never changes; the store accepts a stopped result only with it. The
// environment variable SGSWEEP_TEST_STOP_DELAY (StopDelayEnv), for tests
// only, holds a reply after its decision's commit. See docs/stopping.md,
// "How decisions are kept".
//
// # Control API
//
// Requests and replies are JSON on sgsweep.ctl.<endpoint> (service
// "sgsweep"): submit (SubmitRequest → store.PlanReport; a spec too large
// for one message is uploaded by Client to the object store SpecBucket and
// named in the request), status
// (StatusRequest → Status), cancel (CancelRequest → CancelReply), retry
// (RetryRequest → RetryReply: failed tasks, or stopped ones trained to the
// end), results (results.QueryRequest →
// results.Table, see results.RunQuery), preview (SubmitRequest →
// PlanPreview: a dry-run submit, for `sgsweep plan`), snapshot
// (SnapshotRequest → SnapshotReply: a consistent copy of the store that
// `sgsweep export` reads on the same host). Errors are micro service errors with an
// HTTP-like code (400 bad spec, 404 unknown sweep, 409 changed spec, 500)
// and the full message as a JSON body. Client calls them; when no
// coordinator answers it returns ErrNoCoordinator, and the CLI reads the
// store directly (StoreStatus).
//
// One coordinator owns a store, and one coordinator runs per NATS
// deployment: two would share the result stream and split results between
// their stores, so a coordinator takes a lease (AcquireLease) before it
// touches the streams.
//
// # Trust
//
// The embedded server admits one nkey identity per Role with
// least-privilege permissions (Credentials, RolePermissions); only workers
// and the coordinator may publish results. A result is committed only if
// its task is planned, it carries the ticket of a task message this
// coordinator published (Tickets) and it is plausible (see authorize);
// other results are set aside as orphans, and an implausible one counts
// against its task's delivery budget. A spec's verify block has a share
// of the tasks recomputed by another worker and the digests compared
// (verify.go). StartServer refuses to listen beyond loopback without TLS
// unless told the network is trusted.
package coordinator
