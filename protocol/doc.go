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
// SchemaResult, SchemaProgress). A decoder accepts minor additions within
// its major version (unknown fields are ignored) and refuses any other
// schema with a *SchemaError; every other error it returns wraps
// ErrMalformed, ErrModelVersion, sweep.ErrIDMismatch or
// sweep.ErrInvalidParams, so that a consumer can set a bad message aside
// instead of retrying it.
//
//	sgsweep.task.<sweep>.<task>      TaskMsg      coordinator → workers (JetStream)
//	sgsweep.result.<sweep>.<task>    ResultMsg    worker → coordinator (JetStream)
//	sgsweep.progress.<sweep>.<task>  ProgressMsg  worker → anyone (plain NATS, advisory)
//	sgsweep.ctl.<endpoint>           control API  CLI → coordinator (NATS micro)
package protocol
