// Package protocol is what the coordinator, the workers and the CLI say to
// each other over NATS: the wire messages (messages.go) and their strict
// decoders (decode.go), the names of the streams, consumers, subjects and
// advisories (subjects.go), and the build provenance a result carries
// (build.go).
//
// Its neighbours: package sweep below it defines tasks and their identity
// (task IDs, canonical parameters), which the messages carry and the
// decoders check; the coordinator and worker packages above it publish and
// consume the messages. It imports no NATS client: names and bytes only.
//
// # Messages
//
// Every message is JSON with a "schema" field "<kind>/v<major>" (SchemaTask,
// SchemaResult, SchemaProgress, SchemaProgressReply). A decoder accepts minor additions within
// its major version (unknown fields are ignored) and refuses any other
// schema with a *SchemaError; every other error it returns wraps
// ErrMalformed, ErrModelVersion, sweep.ErrIDMismatch or
// sweep.ErrInvalidParams, so that a consumer can set a bad message aside
// instead of retrying it.
//
//	sgsweep.task.<sweep>.<task>      TaskMsg      coordinator → workers (JetStream)
//	sgsweep.result.<sweep>.<task>    ResultMsg    worker → coordinator (JetStream)
//	sgsweep.progress.<sweep>.<task>  ProgressMsg  worker → anyone (plain NATS, advisory)
//	  its reply inbox                ProgressReply  coordinator → worker (stopping only)
//	sgsweep.ctl.<endpoint>           control API  CLI → coordinator (NATS micro)
//
// # Early stopping
//
// A task of a sweep with stopping rules has TaskMsg.Stopping set. Its worker
// then sends the progress message of every epoch but the last as a NATS
// request on the same subject, and waits briefly for one ProgressReply:
// Stop nil means continue; a StopDecision (committed by the coordinator
// before it replies, and repeated in every later reply to the task) ends
// the run at the first epoch boundary at or after Stop.Epoch. The last
// epoch's progress message is a plain publish: the run ends anyway. No
// reply in time means continue, so a coordinator that does not know the
// task costs the worker its wait and nothing else. The run's result then
// has status stopped (StatusStopped), the curves of the epochs trained,
// the test accuracies of a run that ended there, and ResultMsg.Stop, the
// decision; DecodeResult accepts it only with a well-formed decision no
// later than its last epoch, and CheckPlausible only with fewer epochs
// than the task trains.
package protocol
