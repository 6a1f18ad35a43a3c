package main

import (
	"bytes"
	"context"
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/sgsweep/sgsweep/dashboard"
	"github.com/sgsweep/sgsweep/results"
	"github.com/sgsweep/sgsweep/results/store"
)

func init() { commands = append(commands, reportCommand) }

func reportCommand() *cli.Command {
	return &cli.Command{
		Name:      "report",
		Usage:     "write a self-contained HTML report of a sweep: counts, results table, figures, provenance",
		ArgsUsage: "SWEEP",
		Description: "One HTML file with inline style and SVG figures, no external asset and no script, for a paper's\n" +
			"supplementary material: the sweep's counts and fingerprint, the results table (the query of\n" +
			"`sgsweep results`), the figures (--figure, repeatable, in the dashboard's figure query syntax with\n" +
			"the names of `sgsweep plot`'s flags; none: the default figure) and the provenance summary.\n" +
			"Reads the store (a snapshot while a coordinator holds it), like `sgsweep export`.\n\n" +
			"Example:\n" +
			"  sgsweep report -o fig3.html --group-by surrogate.shape,surrogate.scale \\\n" +
			"      --figure 'kind=line&x=surrogate.scale&series=surrogate.shape' --figure 'kind=curves' fig3",
		Flags: append([]cli.Flag{
			dataDirFlag(),
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Required: true, Usage: "the report's `FILE`",
				EnvVars: []string{"SGSWEEP_REPORT_OUTPUT"}},
			&cli.StringSliceFlag{Name: "group-by", Aliases: []string{"g"}, Usage: "the table's grouping, as for results",
				EnvVars: []string{"SGSWEEP_REPORT_GROUP_BY"}},
			&cli.StringSliceFlag{Name: "metric", Aliases: []string{"m"}, Usage: "the table's metrics, as for results",
				EnvVars: []string{"SGSWEEP_REPORT_METRIC"}},
			&cli.StringSliceFlag{Name: "agg", Aliases: []string{"a"}, Usage: "the table's aggregates, as for results",
				EnvVars: []string{"SGSWEEP_REPORT_AGG"}},
			whereFlag("SGSWEEP_REPORT_WHERE"),
			&cli.StringFlag{Name: "compare", Usage: "paired comparisons in the table, as for results (best, or the reference's keys)",
				EnvVars: []string{"SGSWEEP_REPORT_COMPARE"}},
			&cli.StringSliceFlag{Name: "figure", Usage: "a figure: `QUERY` like kind=heatmap&x=surrogate.scale&y=train.lr; repeatable",
				EnvVars: []string{"SGSWEEP_REPORT_FIGURE"}},
		}, natsFlags()...),
		Action: runReport,
	}
}

func runReport(c *cli.Context) error {
	name, err := sweepArg(c)
	if err != nil {
		return err
	}
	opts := dashboard.ReportOptions{Figures: c.StringSlice("figure"), Query: results.QueryRequest{Sweep: name,
		GroupBy: c.StringSlice("group-by"), Metrics: c.StringSlice("metric"), Aggs: c.StringSlice("agg"),
		Where: rejoinClauses(c.StringSlice("where")), Compare: c.String("compare")}}
	if err := opts.Query.Validate(); err != nil {
		return usageError{err}
	}
	src := newReadSource(c, readOptions{snapshot: true})
	defer src.close()
	var buf bytes.Buffer
	_, err = askOrRead(c.Context, src, nil, func(ctx context.Context, st *store.Store) (struct{}, error) {
		return struct{}{}, dashboard.WriteReport(ctx, dashboard.StoreSource(st), name, opts, &buf)
	})
	if err != nil {
		return err
	}
	out := c.String("output")
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(c.App.ErrWriter, "wrote %s (%d bytes)\n", out, buf.Len())
	return nil
}
