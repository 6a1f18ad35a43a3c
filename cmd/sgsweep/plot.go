package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/sgsweep/sgsweep/results/plot"
	"github.com/urfave/cli/v2"
	"gonum.org/v1/plot/vg"
)

func init() { commands = append(commands, plotCommand) }

func plotCommand() *cli.Command {
	return &cli.Command{
		Name:      "plot",
		Usage:     "draw a figure of a sweep: metric vs a parameter, heat map, learning curves, bars (PNG or SVG)",
		ArgsUsage: "SWEEP",
		Description: "Kinds:\n" +
			"  line     metric vs --x, one series per value of --series, mean with a 95% CI band\n" +
			"           (--band sd|none, --error-bars); log x axis when x spans two decades (--log-x)\n" +
			"  heatmap  metric over --x × --y, cell = mean over seeds (--cell best: the best cell over every\n" +
			"           other varying parameter), colour bar, values in the cells\n" +
			"  curves   learning curves (--metric val_acc, train_acc, train_loss, spikes, silent) over\n" +
			"           epochs, mean ± band per --series\n" +
			"  bars     --conditions side by side, mean ± sd with the individual tasks as points\n" +
			"           (--best K: the K best grid cells per condition, as in the paper's Fig. 5c)\n" +
			"Data come from the running coordinator (over NATS), or from the store of --data-dir when none\n" +
			"answers. Labels default to readable names (surrogate.scale → surrogate scale β). The format follows\n" +
			"the extension of -o. Notes on what was pooled or left out go to standard error. Stopped tasks are\n" +
			"left out of the means (--include stopped: at their last value) and marked: hollow points, ringed\n" +
			"cells, hollow bars, and curves drawn dashed up to where they stopped.\n\n" +
			"Examples:\n" +
			"  sgsweep plot -o scale.png --kind line --x surrogate.scale --series surrogate.shape --cell best fig3\n" +
			"  sgsweep plot -o heat.svg --kind heatmap --x surrogate.scale --y train.lr \\\n" +
			"      --where surrogate.shape=superspike fig3\n" +
			"  sgsweep plot -o bars.png --kind bars --conditions surrogate.shape,network.reset --best 10 \\\n" +
			"      --label superspike/detached=sCtl --label superspike_asymptotic/differentiable=aDR fig5",
		Flags: append([]cli.Flag{
			dataDirFlag(),
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Required: true,
				Usage: "the figure's `FILE`: .png or .svg", EnvVars: []string{"SGSWEEP_PLOT_OUTPUT"}},
			&cli.StringFlag{Name: "kind", Aliases: []string{"k"}, Value: plot.KindLine,
				Usage: "line, heatmap, curves or bars", EnvVars: []string{"SGSWEEP_PLOT_KIND"}},
			&cli.StringFlag{Name: "metric", Aliases: []string{"m"},
				Usage: "the metric shown (default test_acc; val_acc for curves)", EnvVars: []string{"SGSWEEP_PLOT_METRIC"}},
			&cli.StringFlag{Name: "x", Usage: "parameter on the x axis (line, heatmap)", EnvVars: []string{"SGSWEEP_PLOT_X"}},
			&cli.StringFlag{Name: "y", Usage: "parameter on the y axis (heatmap)", EnvVars: []string{"SGSWEEP_PLOT_Y"}},
			&cli.StringSliceFlag{Name: "series", Usage: "one series per value of these parameters (line, curves)", EnvVars: []string{"SGSWEEP_PLOT_SERIES"}},
			&cli.StringSliceFlag{Name: "conditions", Usage: "parameters whose combinations are the bars (bars)", EnvVars: []string{"SGSWEEP_PLOT_CONDITIONS"}},
			whereFlag("SGSWEEP_PLOT_WHERE"),
			includeFlag("SGSWEEP_PLOT_INCLUDE"),
			&cli.IntFlag{Name: "epoch", Usage: "read a curve metric after this epoch", EnvVars: []string{"SGSWEEP_PLOT_EPOCH"}},
			&cli.StringFlag{Name: "band", Value: plot.BandCI, Usage: "band around the mean: ci (95%), sd or none", EnvVars: []string{"SGSWEEP_PLOT_BAND"}},
			&cli.BoolFlag{Name: "error-bars", Usage: "error bars instead of a band (line)", EnvVars: []string{"SGSWEEP_PLOT_ERROR_BARS"}},
			&cli.StringFlag{Name: "cell", Value: plot.CellMean,
				Usage: "what a point or cell shows: mean (over seeds, pooled over other parameters) or best (the best grid cell)", EnvVars: []string{"SGSWEEP_PLOT_CELL"}},
			&cli.IntFlag{Name: "best", Usage: "bars: mean ± sd of the K best grid cells per condition", EnvVars: []string{"SGSWEEP_PLOT_BEST"}},
			&cli.StringSliceFlag{Name: "label", Usage: "rename a condition or series value: `FROM=TO` (FROM: values joined with /); repeatable",
				EnvVars: []string{"SGSWEEP_PLOT_LABEL"}},
			&cli.StringFlag{Name: "log-x", Value: "auto", Usage: "log x axis: auto, on or off", EnvVars: []string{"SGSWEEP_PLOT_LOG_X"}},
			&cli.StringFlag{Name: "title", Usage: "title (default: what is plotted)", EnvVars: []string{"SGSWEEP_PLOT_TITLE"}},
			&cli.StringFlag{Name: "x-label", Usage: "x axis label", EnvVars: []string{"SGSWEEP_PLOT_X_LABEL"}},
			&cli.StringFlag{Name: "y-label", Usage: "y axis label", EnvVars: []string{"SGSWEEP_PLOT_Y_LABEL"}},
			&cli.StringFlag{Name: "width", Value: "16cm", Usage: "figure width (cm, mm, in or pt)", EnvVars: []string{"SGSWEEP_PLOT_WIDTH"}},
			&cli.StringFlag{Name: "height", Value: "10cm", Usage: "figure height (cm, mm, in or pt)", EnvVars: []string{"SGSWEEP_PLOT_HEIGHT"}},
			&cli.IntFlag{Name: "dpi", Value: plot.DefaultDPI, Usage: "PNG resolution, dots per inch", EnvVars: []string{"SGSWEEP_PLOT_DPI"}},
		}, natsFlags()...),
		Action: runPlot,
	}
}

func runPlot(c *cli.Context) error {
	name, err := sweepArg(c)
	if err != nil {
		return err
	}
	out := c.String("output")
	if ext := strings.ToLower(filepath.Ext(out)); ext != ".png" && ext != ".svg" {
		return usageError{fmt.Errorf("-o %s: the file name must end in .png or .svg", out)}
	}
	width, err := vg.ParseLength(c.String("width"))
	if err != nil || width <= 0 {
		return usageError{fmt.Errorf("--width %q: want a length like 16cm, 6in or 400pt", c.String("width"))}
	}
	height, err := vg.ParseLength(c.String("height"))
	if err != nil || height <= 0 {
		return usageError{fmt.Errorf("--height %q: want a length like 10cm, 4in or 300pt", c.String("height"))}
	}
	if dpi := c.Int("dpi"); dpi < 10 || dpi > 2400 {
		return usageError{fmt.Errorf("--dpi: want 10 … 2400, got %d", dpi)}
	}
	req := plot.Request{
		Sweep: name, Kind: c.String("kind"), Metric: c.String("metric"),
		X: c.String("x"), Y: c.String("y"), Series: c.StringSlice("series"), Conditions: c.StringSlice("conditions"),
		Where: rejoinClauses(c.StringSlice("where")), Epoch: c.Int("epoch"), Include: c.StringSlice("include"),
		Band: c.String("band"), ErrorBars: c.Bool("error-bars"), Cell: c.String("cell"), Best: c.Int("best"),
		Labels: c.StringSlice("label"), LogX: c.String("log-x"),
		Title: c.String("title"), XLabel: c.String("x-label"), YLabel: c.String("y-label"),
	}
	if err := req.Validate(); err != nil {
		return usageError{err}
	}
	fig, err := withQuerier(c, func(ctx context.Context, query plot.Querier) (*plot.Figure, error) {
		return plot.Make(ctx, query, req)
	})
	if err != nil {
		return err
	}
	fig.Width, fig.Height, fig.DPI = width, height, c.Int("dpi")
	if err := fig.Save(out); err != nil {
		return err
	}
	printNotes(c, fig.Notes)
	fmt.Fprintf(c.App.ErrWriter, "wrote %s\n", out)
	return nil
}
