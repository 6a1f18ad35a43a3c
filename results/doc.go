// Package results is what sgsweep computes from the records of a sweep:
// the read contract (Record, RecordSource), queries and filters
// (RunQuery, QueryRequest, ParseFilter), aggregation over seeds
// (Summarize), result tables and their formats (Table), paired comparisons
// and export (Export). It holds no storage and draws no figures: package
// results/store implements RecordSource on the bbolt file, package
// results/plot draws figures from query tables, and the coordinator and the
// CLI run the same queries on either, so both give the same numbers.
//
// # Queries and export
//
// Everything is computed from RecordSource, the stream of a sweep's
// Records in ordinal order: *store.Store on bbolt (one read transaction),
// RecordSlice in memory. A source returns an error wrapping ErrNotFound for
// a sweep it does not hold. RunQuery(ctx, src, QueryRequest) aggregates it
// into a Table; the coordinator's results endpoint is that call on its own
// store, and the CLI makes the same call on a store opened read-only, so
// both give the same table. Figures (package results/plot) are built from
// query Tables only, and Export streams records to CSV or JSON Lines, one
// record in memory at a time.
//
// Names. Parameters are the dotted JSON paths of sim.Config's leaves
// (ParamPaths: surrogate.shape, train.lr, network.hidden as a list like
// [100,100]) plus the derived network.depth, the number of hidden layers.
// Task fields: state (pending, done, stopped, failed), status (ok,
// diverged, stopped, failed, pending), host. Metrics:
// the keys of sim.Result.Metrics, diverged (1 for a diverged run),
// run_seconds, and curve values at an epoch (val_acc@10) or at every epoch
// (val_acc@*). An unknown name is an *UnknownFieldError that lists the known
// ones.
//
// Groups. By default a query groups by every parameter that varies except
// the replicate axes seed and data_seed: each row is one grid cell and the
// statistics run over its replicates. Explicit keys group coarser; the
// notes then name the parameters pooled over. Rows come in the order their
// groups first appear in the grid, unless sorted.
//
// Counting. expected is every planned task of the group that passes the
// filter's clauses on parameters and task fields; n is the number of values
// a metric has. Failed tasks are excluded from the metrics and counted;
// pending tasks are counted; a diverged run is an outcome, and its metrics
// are what the simulator reported. A stopped task (its run ended early by
// the sweep's stopping rules) is its own outcome, counted as stopped and
// left out of every statistic unless QueryRequest.Include names it: then
// it counts at its last value, the final metrics of its shortened run and,
// at a later epoch of a curve, its value at the last epoch trained.
// Paired comparisons follow: a unit with a stopped task is a pair only
// when stopped tasks are included. Notes say how many were left out, so
// that a mean over the survivors of a stopping rule is never mistaken for
// a mean over the grid. Export writes stopped tasks with their decision. A clause on a metric drops values (a
// task without the metric fails it) but not expected, so n < expected shows
// both missing replicates and filtered ones. Non-finite values are left out
// and counted in the notes.
//
// Statistics (Summarize): mean, sd (n − 1), sem = sd/√n, the 95% confidence
// interval mean ∓ t(0.975, n − 1)·sem with Student's t (gonum's
// distuv.StudentsT), median, min, max; sd, sem and the interval are empty
// for n = 1. Paired comparisons (QueryRequest.Compare, ComparePaired) pair
// the tasks of two groups that agree on every parameter but the grouping
// keys, seeds included, and report the mean difference, its 95% interval and
// the two-sided paired t-test p-value. "Best" means the highest mean, or the
// lowest for losses, divergence and run time. Sums run in record order, so
// the same store gives the same numbers, bit for bit.
package results
