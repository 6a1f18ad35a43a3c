package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/sgsweep/sgsweep/results"
	"github.com/sgsweep/sgsweep/results/store"
)

func init() { commands = append(commands, exportCommand) }

func exportCommand() *cli.Command {
	return &cli.Command{
		Name:      "export",
		Usage:     "write a sweep's tasks as a tidy CSV or JSON Lines table for pandas or R",
		ArgsUsage: "SWEEP",
		Description: "One row per task: sweep, ordinal, task_id, state, status, attempts, error, every parameter path,\n" +
			"every final metric, the stop decision of a stopped task (stop_epoch, stop_rule, stop_metric,\n" +
			"stop_mode, stop_value, stop_threshold, stop_group, stop_peers, stop_against, stop_decided_at), and\n" +
			"the provenance (digest, model and build versions, host, worker, attempt, start and finish times,\n" +
			"data and training seconds). With --curves, one row per task per epoch with the learning curves\n" +
			"instead of the final metrics; a stopped task's rows end at the epoch it stopped at. Every task is\n" +
			"written, stopped ones with the metrics of their shortened run (select them with --where\n" +
			"state=stopped). Streams: memory stays bounded whatever the size of the sweep. Reads the store of\n" +
			"--data-dir; while a coordinator holds it, reads a snapshot that the coordinator writes beside it\n" +
			"(same host), so a running sweep exports too.\n\n" +
			"Examples:\n" +
			"  sgsweep export -o fig3.csv fig3                               # pandas.read_csv('fig3.csv')\n" +
			"  sgsweep export --format jsonl --curves -o curves.jsonl fig3  # pandas.read_json(…, lines=True)",
		Flags: append([]cli.Flag{
			dataDirFlag(),
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: results.ExportCSV,
				Usage: "csv or jsonl", EnvVars: []string{"SGSWEEP_EXPORT_FORMAT"}},
			&cli.BoolFlag{Name: "curves", Usage: "one row per task per epoch (learning curves)", EnvVars: []string{"SGSWEEP_EXPORT_CURVES"}},
			whereFlag("SGSWEEP_EXPORT_WHERE"),
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to `FILE` instead of standard output",
				EnvVars: []string{"SGSWEEP_EXPORT_OUTPUT"}},
		}, natsFlags()...),
		Action: runExport,
	}
}

func runExport(c *cli.Context) error {
	name, err := sweepArg(c)
	if err != nil {
		return err
	}
	opts := results.ExportOptions{Format: c.String("format"), Curves: c.Bool("curves"), Where: rejoinClauses(c.StringSlice("where"))}
	if opts.Format != results.ExportCSV && opts.Format != results.ExportJSONL {
		return usageError{fmt.Errorf("--format: %q is not one of csv, jsonl", opts.Format)}
	}
	if _, err := results.ParseFilter(opts.Where, 0); err != nil {
		return usageError{err}
	}
	// Reads the store only, or while a coordinator holds it, its snapshot.
	src := newReadSource(c, readOptions{snapshot: true})
	defer src.close()
	out := c.String("output")
	stats, err := askOrRead(c.Context, src, nil, func(ctx context.Context, st *store.Store) (*results.ExportStats, error) {
		if out == "" {
			return results.Export(ctx, st, name, c.App.Writer, opts)
		}
		return exportToFile(c, st, name, out, opts)
	})
	if err != nil || out == "" {
		return err
	}
	stopped := ""
	if stats.Stopped > 0 {
		stopped = fmt.Sprintf(", %d of them stopped early", stats.Stopped)
	}
	fmt.Fprintf(c.App.ErrWriter, "wrote %d rows (%d tasks%s) to %s\n", stats.Rows, stats.Tasks, stopped, out)
	for p, n := range stats.UnknownParams {
		fmt.Fprintf(c.App.ErrWriter, "note: %d tasks have parameter %s, unknown to this sgsweep; not exported\n", n, p)
	}
	return nil
}

// exportToFile writes the export to a temporary file beside path and
// renames it into place, so that an interrupted export leaves no partial
// file under the final name.
func exportToFile(c *cli.Context, src results.RecordSource, name, path string, opts results.ExportOptions) (*results.ExportStats, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly after the rename
	stats, err := results.Export(c.Context, src, name, tmp, opts)
	if err != nil {
		tmp.Close()
		return nil, err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return nil, err
	}
	if err := tmp.Close(); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return nil, err
	}
	return stats, nil
}
