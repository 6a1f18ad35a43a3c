// Package store is the sgsweep results store (Store, Open): one bbolt file,
// state.db in the data dir, the source of truth for sweeps. The coordinator
// records a sweep's plan before it publishes a task, and acknowledges a
// result message only after the result is committed. *Store implements
// results.RecordSource, so package results' queries and exports read it.
// Its neighbours: package sweep (specs, task IDs) and package protocol
// (the result messages it stores) below, the coordinator (the only writer
// while it runs) and the CLI's read-only views (status, results, export,
// plot) above.
//
// # Opening and locking
//
// bbolt takes an exclusive file lock for a read-write open and a shared one
// for a read-only open; the two exclude each other, even across processes.
// Open waits Options.Timeout (1 s by default) and then fails with an error
// wrapping ErrLocked. A running coordinator therefore owns the file: other
// commands ask it over NATS, and open the file read-only only when no
// coordinator answers. The coordinator opens the store before it starts its
// embedded NATS server, which makes the lock the guard against two
// coordinators sharing a data dir.
//
// # Identity
//
// Results are keyed by task ID, a hash of the task's resolved configuration
// and the simulator's model version (sweep.TaskID), not by sweep: a task whose
// ID has a result anywhere in the store is done for every sweep that plans it
// and is never recomputed. Sweeps refer to task IDs by ordinal.
//
// # Bucket layout (SchemaVersion 1)
//
// Keys are bytes; values are JSON unless noted. Task IDs are the 32-character
// lowercase hex strings of sweep.TaskID.
//
//	meta/
//	  schema                    "1": the layout version; a newer one is refused (ErrSchema)
//	  created                   RFC 3339 time the store was created
//	  counters                  {duplicates, conflicts, rejected}: store-wide totals
//	sweeps/
//	  <sweep name>              {name, fingerprint, state, created, updated, finished,
//	                             expected, done, diverged, stopped, failed, pending, duplicates,
//	                             conflicts, plan_digest}: small, rewritten as tasks settle
//	specs/
//	  <sweep name>              {canonical, source_name, source}: the spec it was planned from
//	orders/                     one nested bucket per sweep
//	  <sweep name>/
//	    <ordinal u64 BE>        task ID (raw bytes): the sweep's grid order
//	staging/                    a plan being written (same layout as orders/), moved
//	  <sweep name>/             to orders/ when complete
//	tasks/
//	  <task ID>                 {state, status, digest, attempts, error, gen, duplicates,
//	                             conflicts, sweeps, updated}
//	params/
//	  <task ID>                 canonical JSON of the task's resolved sim.Config (raw)
//	results/
//	  <task ID>                 the result message (protocol.ResultMsg) as received;
//	                            its params echo params/<task ID>, and Records
//	                            reports only that copy (Record.Params)
//	conflicts/
//	  <task ID><u32 BE n>       the n-th result whose digest differs from the stored one
//	queued/
//	  <task ID>                 {sweep, gen, seq, at}: the task's message is in the task
//	                            stream under that sweep's subject (publication acknowledged)
//	rejected/
//	  <u64 BE sequence>         {stream, subject, seq, reason, data, at}: unusable messages
//	stops/                      one nested bucket per sweep with early stopping (stops.go);
//	  <sweep name>/             created by a read-write open of a store that lacks it
//	    <task ID>               {decision, committed_at, overridden, set_aside}: the task's
//	                            stop decision, never changed once committed; retry
//	                            --stopped marks it overridden and moves the stopped
//	                            result from results/ into set_aside
//
// Sweep states are running, done and cancelled; task states pending, done,
// stopped and failed (see Record). A sweep's counters satisfy expected =
// done + stopped + failed + pending; they are updated in the same transaction as the task states they
// count, for every sweep that plans the task (tasks/<id>.sweeps). A running
// sweep with nothing pending becomes done in that transaction.
//
// A task's stored result is its first ok or diverged result. An identical
// later one (same digest, computed over the deterministic sim.Result only) is
// counted as a duplicate; a differing one is kept in conflicts/ and counted:
// evidence of non-determinism that status reports. A failed result settles a
// pending task as failed and is replaced by any later ok or diverged result;
// a failure never replaces a result.
//
// A stopped result (a run the coordinator ended early) settles its task as
// stopped, counted apart from done, only if it carries the task's stop
// decision as committed in stops/ (CommitStop, before any worker heard of
// it); otherwise it is rejected with the reason. A stopped task is settled
// like a done one: never published again, its result kept against later
// differing ones (conflicts).
//
// Planning stages tasks/, params/ and staging/<name> in chunks of
// thousands of tasks (bbolt inserts are quadratic within one transaction),
// in task ID order (sorted in a temporary file: random keys would dirty a
// page per task in every chunk), then
// switches sweeps/, specs/ and orders/<name> in one transaction: a crash
// leaves the previous plan. A sweep resubmitted with the same fingerprint
// and the same task IDs resumes; a changed spec is refused
// (SpecChangedError) unless extended, in which case the order is replaced by
// the new expansion, and dropped tasks lose their reference to the sweep but
// keep their results.
package store
