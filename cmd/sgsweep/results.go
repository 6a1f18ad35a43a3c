package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/sgsweep/sgsweep/coordinator"
	"github.com/sgsweep/sgsweep/results"
	"github.com/sgsweep/sgsweep/results/plot"
	"github.com/sgsweep/sgsweep/results/store"
)

func init() { commands = append(commands, resultsCommand) }

// whereFlag is the repeatable --where of the analysis commands.
func whereFlag(env string) cli.Flag {
	return &cli.StringSliceFlag{Name: "where", Aliases: []string{"w"},
		Usage: "keep tasks where `CLAUSE` holds; repeatable, AND-combined: path=value, path!=value, " +
			"path in {a,b}, path<number (<, <=, >, >=), lo<=path<=hi, on parameters, state, status, host and metrics",
		EnvVars: []string{env}}
}

// includeFlag is the --include of results and plot: outcomes that the
// statistics leave out by default.
func includeFlag(env string) cli.Flag {
	return &cli.StringSliceFlag{Name: "include",
		Usage:   "put `OUTCOME` in the statistics, which leave it out by default: stopped (each stopped task at its last value)",
		EnvVars: []string{env}}
}

func resultsCommand() *cli.Command {
	return &cli.Command{
		Name:      "results",
		Usage:     "aggregate a sweep's results over seeds: group, filter, sort; table, CSV or JSON",
		ArgsUsage: "SWEEP",
		Description: "Groups the sweep's tasks (by default by every parameter that varies except the seeds, so that\n" +
			"each row is a grid cell aggregated over its replicates) and prints, per group and metric, n (tasks\n" +
			"with a value) next to expected (planned tasks), mean, sd, sem, the 95% CI (Student t), median, min\n" +
			"and max. Failed tasks are excluded and counted; diverged runs are outcomes and count with the\n" +
			"metrics the simulator reported. Stopped tasks (runs ended early by the sweep's stopping rules)\n" +
			"are counted (--agg stopped) and left out of every statistic and paired comparison unless\n" +
			"--include stopped puts them in at their last value: the final metrics of the shortened run, and\n" +
			"for a curve at a later epoch the value at the last epoch trained. The notes below the table say\n" +
			"what was excluded or pooled and which group is best.\n\n" +
			"Metrics: final metrics (test_acc, best_val_acc, …), a curve at an epoch (val_acc@10), whole curves\n" +
			"(val_acc@*), diverged (rate), run_seconds. Unknown names are errors that list the known ones.\n\n" +
			"Examples:\n" +
			"  sgsweep results --group-by surrogate.shape,surrogate.scale --where 'train.lr=0.05' fig3\n" +
			"  sgsweep results --sort -test_acc --top 5 fig3\n" +
			"  sgsweep results --group-by surrogate.shape,network.reset --compare best --format csv fig5",
		Flags: append([]cli.Flag{
			dataDirFlag(),
			&cli.StringSliceFlag{Name: "group-by", Aliases: []string{"g"},
				Usage:   "group by these parameter paths or task fields (state, status, host); * adds every other varying parameter but the seeds; none: one group (default *)",
				EnvVars: []string{"SGSWEEP_RESULTS_GROUP_BY"}},
			&cli.StringSliceFlag{Name: "metric", Aliases: []string{"m"},
				Usage: "metrics to aggregate (default test_acc)", EnvVars: []string{"SGSWEEP_RESULTS_METRIC"}},
			&cli.StringSliceFlag{Name: "agg", Aliases: []string{"a"},
				Usage:   "aggregates: n, mean, sd, sem, ci95, median, min, max, values, expected, done, failed, pending, diverged, stopped, all (default n,expected,mean,sd,ci95)",
				EnvVars: []string{"SGSWEEP_RESULTS_AGG"}},
			whereFlag("SGSWEEP_RESULTS_WHERE"),
			&cli.StringFlag{Name: "sort", Aliases: []string{"s"},
				Usage: "sort by this column (a metric alone: its mean); prefix - for descending", EnvVars: []string{"SGSWEEP_RESULTS_SORT"}},
			&cli.IntFlag{Name: "top", Usage: "keep the first N rows after sorting", EnvVars: []string{"SGSWEEP_RESULTS_TOP"}},
			&cli.IntFlag{Name: "epoch", Usage: "read curve metrics (val_acc, train_loss, spikes, …) after this epoch instead of the last", EnvVars: []string{"SGSWEEP_RESULTS_EPOCH"}},
			&cli.StringFlag{Name: "compare",
				Usage:   "paired comparison of every group with a reference: best, or the reference's keys (surrogate.shape=superspike); pairs share all other parameters, seeds included",
				EnvVars: []string{"SGSWEEP_RESULTS_COMPARE"}},
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: results.FormatText,
				Usage: "table, csv or json", EnvVars: []string{"SGSWEEP_RESULTS_FORMAT"}},
			includeFlag("SGSWEEP_RESULTS_INCLUDE"),
		}, natsFlags()...),
		Action: runResults,
	}
}

func runResults(c *cli.Context) error {
	name, err := sweepArg(c)
	if err != nil {
		return err
	}
	req := results.QueryRequest{
		Sweep:   name,
		GroupBy: c.StringSlice("group-by"),
		Metrics: c.StringSlice("metric"),
		Aggs:    c.StringSlice("agg"),
		Where:   rejoinClauses(c.StringSlice("where")),
		Sort:    c.String("sort"),
		Top:     c.Int("top"),
		Epoch:   c.Int("epoch"),
		Compare: c.String("compare"),
		Include: c.StringSlice("include"),
	}
	format := c.String("format")
	if format != results.FormatText && format != results.FormatCSV && format != results.FormatJSON {
		return usageError{fmt.Errorf("--format: %q is not one of table, csv, json", format)}
	}
	if err := req.Validate(); err != nil {
		return usageError{err}
	}
	tab, err := withQuerier(c, func(ctx context.Context, query plot.Querier) (*results.Table, error) {
		return query(ctx, req)
	})
	if err != nil {
		return err
	}
	if err := tab.Write(c.App.Writer, format); err != nil {
		return err
	}
	if format != results.FormatText {
		printNotes(c, tab.Notes)
	}
	return nil
}

// sweepArg returns the one SWEEP argument.
func sweepArg(c *cli.Context) (string, error) {
	if c.NArg() != 1 {
		return "", usageError{fmt.Errorf("%s takes one sweep name, got %d arguments (sgsweep status lists the sweeps)", c.Command.Name, c.NArg())}
	}
	return c.Args().First(), nil
}

// printNotes writes notes to the error stream, so that machine-readable
// output stays clean.
func printNotes(c *cli.Context, notes []string) {
	for _, n := range notes {
		fmt.Fprintln(c.App.ErrWriter, "note:", n)
	}
}

// withQuerier runs f with the queries of the running coordinator, if one
// answers (its store is locked to others), else of the store of --data-dir
// opened read-only (see askOrRead).
func withQuerier[T any](c *cli.Context, f func(context.Context, plot.Querier) (T, error)) (T, error) {
	src := newReadSource(c, readOptions{})
	defer src.close()
	return askOrRead(c.Context, src,
		func(ctx context.Context, client *coordinator.Client) (T, error) { return f(ctx, client.Results) },
		func(ctx context.Context, st *store.Store) (T, error) { return f(ctx, storeQuerier(st)) })
}

// storeQuerier runs queries on a store as the coordinator does, with its
// note on disputed tasks.
func storeQuerier(st *store.Store) plot.Querier {
	return func(ctx context.Context, req results.QueryRequest) (*results.Table, error) {
		tab, err := plot.SourceQuerier(st)(ctx, req)
		if err != nil {
			return nil, err
		}
		return tab, coordinator.NoteDisputes(ctx, st, tab, req.Sweep)
	}
}

// rejoinClauses undoes the comma splitting of slice flags inside braces,
// brackets and quotes: "a in {x", "y}" becomes "a in {x,y}".
func rejoinClauses(parts []string) []string {
	var out []string
	var cur strings.Builder
	depth := 0
	var quote byte
	for _, p := range parts {
		if cur.Len() > 0 {
			cur.WriteByte(',')
		}
		cur.WriteString(p)
		for i := 0; i < len(p); i++ {
			ch := p[i]
			switch {
			case quote != 0:
				if ch == quote {
					quote = 0
				}
			case ch == '\'' || ch == '"':
				quote = ch
			case ch == '{' || ch == '[':
				depth++
			case ch == '}' || ch == ']':
				depth--
			}
		}
		if depth <= 0 && quote == 0 {
			out = append(out, cur.String())
			cur.Reset()
			depth = 0
		}
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}
