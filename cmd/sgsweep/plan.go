package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/sgsweep/sgsweep/coordinator"
	"github.com/sgsweep/sgsweep/results/store"
	"github.com/sgsweep/sgsweep/sim"
	"github.com/sgsweep/sgsweep/sweep"
)

func init() { commands = append(commands, planCommand) }

// workFormula explains the work estimate (see sim.Config.SampleSteps).
const workFormula = "Σ over tasks of epochs × (train + val samples) × steps + 2 × test samples × steps"

func planCommand() *cli.Command {
	return &cli.Command{
		Name:      "plan",
		Usage:     "dry run: check a sweep spec and show its axes, task count and work; nothing is published",
		ArgsUsage: "SPEC.yaml",
		Description: "Parses and validates the spec (every task's config included), then prints each axis with its\n" +
			"size and values (slowest first), the sampled axes with their distribution, the range of the\n" +
			"values drawn and how many of the n equal-probability strata they hit, the number of grid\n" +
			"points, of excluded points and of tasks,\n" +
			"and the work in sample-steps (" + workFormula + ").\n" +
			"When a results store exists (the running coordinator's, else --data-dir's), also says whether the\n" +
			"sweep is new, resumes or changed, and how many of its tasks already have results.\n" +
			"Exits with status 2 on an invalid spec, naming the file, line and field of each problem.",
		Flags: append([]cli.Flag{
			&cli.BoolFlag{Name: "list", Usage: "also list every task: ordinal, short ID and its varying parameters", EnvVars: []string{"SGSWEEP_PLAN_LIST"}},
			&cli.BoolFlag{Name: "json", Usage: "print the plan as one JSON object (with --list, the tasks too)", EnvVars: []string{"SGSWEEP_PLAN_JSON"}},
			dataDirFlag(),
		}, natsFlags()...),
		Action: runPlan,
	}
}

// planJSON is the --json output.
type planJSON struct {
	Name         string     `json:"name"`
	Description  string     `json:"description,omitempty"`
	File         string     `json:"file"`
	Fingerprint  string     `json:"fingerprint"`
	ModelVersion string     `json:"model_version"`
	Axes         []axisJSON `json:"axes"`
	Points       int        `json:"points"`
	Excluded     int        `json:"excluded"`
	Tasks        int        `json:"tasks"`
	SampleSteps  int64      `json:"sample_steps"`
	// Store is what the results store already holds of the sweep; absent
	// when there is no store.
	Store *coordinator.PlanPreview `json:"store,omitempty"`
	// Sampling describes the sampled axes; absent without them.
	Sampling *samplingJSON `json:"sampling,omitempty"`
	// Stopping is the spec's stopping block; absent without one.
	Stopping *sweep.Stopping `json:"stopping,omitempty"`
	// Verify is the spec's verify block; absent without one.
	Verify *sweep.Verify `json:"verify,omitempty"`

	TaskList []taskJSON `json:"task_list,omitempty"`
}

type axisJSON struct {
	Name   string              `json:"name"`
	Kind   sweep.AxisKind      `json:"kind"`
	Paths  []string            `json:"paths"`
	Size   int                 `json:"size"`
	Values [][]json.RawMessage `json:"values"`
}

type taskJSON struct {
	Ordinal int                        `json:"ordinal"`
	ID      string                     `json:"id"`
	Point   map[string]json.RawMessage `json:"point"`
}

func runPlan(c *cli.Context) error {
	if c.NArg() != 1 {
		return usageError{fmt.Errorf("plan takes one spec file, got %d arguments", c.NArg())}
	}
	path := c.Args().First()
	source, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read spec: %w", err)
	}
	spec, err := sweep.Parse(path, source)
	if err != nil {
		var se *sweep.SpecError
		if errors.As(err, &se) {
			return usageError{err}
		}
		return err
	}
	// The expansion is streamed (spec.Tasks), never held: a plan of
	// max_tasks tasks needs no more memory than one of ten.
	var work int64
	for t, err := range spec.Tasks() {
		if err != nil {
			return err
		}
		work += t.Config.SampleSteps()
	}
	preview, err := previewPlan(c, spec, source)
	if err != nil {
		return err
	}
	out := c.App.Writer
	if c.Bool("json") {
		return writePlanJSON(out, spec, work, preview, c.Bool("list"))
	}
	writePlanText(out, spec, work)
	writePreview(out, preview)
	if c.Bool("list") {
		fmt.Fprintln(out)
		return writeTaskList(out, spec)
	}
	return nil
}

func writePlanJSON(w io.Writer, spec *sweep.Spec, work int64, preview *coordinator.PlanPreview, list bool) error {
	p := planJSON{
		Name:         spec.Name,
		Description:  spec.Description,
		File:         spec.File,
		Fingerprint:  spec.Fingerprint(),
		ModelVersion: sim.ModelVersion,
		Axes:         []axisJSON{},
		Points:       spec.Points(),
		Excluded:     spec.Points() - spec.Count(),
		Tasks:        spec.Count(),
		SampleSteps:  work,
		Store:        preview,
		Sampling:     sampledCoverage(spec),
		Stopping:     spec.Stopping(),
		Verify:       spec.Verify(),
	}
	for _, ax := range spec.Axes() {
		p.Axes = append(p.Axes, axisJSON{Name: ax.Name(), Kind: ax.Kind, Paths: ax.Paths, Size: ax.Len(), Values: ax.Values})
	}
	if list {
		for t, err := range spec.Tasks() {
			if err != nil {
				return err
			}
			point := make(map[string]json.RawMessage, len(t.Point))
			for _, a := range t.Point {
				point[a.Path] = a.Value
			}
			p.TaskList = append(p.TaskList, taskJSON{Ordinal: t.Ordinal, ID: t.ID, Point: point})
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(p)
}

func writePlanText(w io.Writer, spec *sweep.Spec, work int64) {
	fmt.Fprintf(w, "sweep %s  (%s)\n", spec.Name, spec.File)
	if spec.Description != "" {
		fmt.Fprintf(w, "  %s\n", strings.Join(strings.Fields(spec.Description), " "))
	}
	fmt.Fprintf(w, "fingerprint %s, model %s\n\n", spec.Fingerprint()[:16], sim.ModelVersion)

	axes := spec.Axes()
	if len(axes) == 0 {
		fmt.Fprintln(w, "no axes: one task")
	} else {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "axis (slowest first)\tkind\tsize\tvalues")
		for _, ax := range axes {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", ax.Name(), ax.Kind, ax.Len(), axisValues(ax))
		}
		tw.Flush()
	}
	fmt.Fprintln(w)
	if c := sampledCoverage(spec); c != nil {
		writeSampling(w, c)
		fmt.Fprintln(w)
	}

	perTask := 0.0
	if spec.Count() > 0 {
		perTask = float64(work) / float64(spec.Count())
	}
	width := len(strconv.FormatInt(work, 10))
	fmt.Fprintf(w, "grid points  %*d\n", width, spec.Points())
	fmt.Fprintf(w, "excluded     %*d\n", width, spec.Points()-spec.Count())
	fmt.Fprintf(w, "tasks        %*d\n", width, spec.Count())
	fmt.Fprintf(w, "work         %*d sample-steps (%.3g; %.3g per task)\n", width, work, float64(work), perTask)
	fmt.Fprintf(w, "             = %s\n", workFormula)
	if st := spec.Stopping(); st != nil {
		fmt.Fprintf(w, "stopping     %s\n", st)
		fmt.Fprintf(w, "             (work is the most it can be: runs that stop early train fewer epochs)\n")
	}
	if v := spec.Verify(); v != nil {
		picked := 0
		for t, err := range spec.Tasks() {
			if err == nil && v.Picks(t.ID) {
				picked++
			}
		}
		fmt.Fprintf(w, "verify       %d tasks computed twice, by two workers (fraction %v, seed %d): %.3g more sample-steps\n",
			picked, v.Fraction, v.Seed, float64(picked)*perTask)
	}
}

// previewPlan asks the running coordinator, else the store of --data-dir
// (read-only), what submitting the spec would do. It returns nil when there
// is no store. source is the spec file's content, as submitted.
func previewPlan(c *cli.Context, spec *sweep.Spec, source []byte) (*coordinator.PlanPreview, error) {
	src := newReadSource(c, readOptions{
		missingStoreOK:    true,
		lockedAdvice:      "no coordinator answered, so the plan cannot say what is already done",
		connErrReadsStore: true,
	})
	defer src.close()
	ctx, cancel := context.WithTimeout(c.Context, controlTimeout)
	defer cancel()
	return askOrRead(ctx, src,
		func(ctx context.Context, client *coordinator.Client) (*coordinator.PlanPreview, error) {
			return client.Preview(ctx, coordinator.SubmitRequest{SpecName: spec.File, Spec: source})
		},
		func(ctx context.Context, st *store.Store) (*coordinator.PlanPreview, error) {
			if st == nil {
				return nil, nil
			}
			return coordinator.PreviewSpec(ctx, st, spec)
		})
}

// writePreview prints what the store holds of the sweep.
func writePreview(w io.Writer, pv *coordinator.PlanPreview) {
	if pv == nil {
		fmt.Fprintln(w, "store        none yet: every task would run")
		fmt.Fprintln(w, "nothing was published")
		return
	}
	switch pv.Outcome {
	case store.PreviewNew:
		fmt.Fprintf(w, "store        sweep %s is new\n", pv.Sweep)
	case store.PreviewResume:
		fmt.Fprintf(w, "store        sweep %s exists with this spec: running it resumes\n", pv.Sweep)
	case store.PreviewChanged:
		fmt.Fprintf(w, "store        sweep %s exists with another spec (submit with --extend to plan %d new tasks, %d leave it):\n",
			pv.Sweep, pv.Added, pv.Dropped)
		for _, line := range pv.Diff {
			fmt.Fprintf(w, "               %s\n", line)
		}
	}
	fmt.Fprintf(w, "             %d with a result, %d failed, %d to run\n", pv.Done, pv.Failed, pv.Pending)
	fmt.Fprintln(w, "nothing was published")
}

// axisValues renders an axis' points: all of them up to 10, else the first
// 6, an ellipsis and the last 2.
func axisValues(ax sweep.Axis) string {
	point := func(p []json.RawMessage) string {
		vals := make([]string, len(p))
		for j, v := range p {
			vals[j] = sweep.FormatValue(v)
		}
		if len(vals) == 1 {
			return vals[0]
		}
		return "(" + strings.Join(vals, ", ") + ")"
	}
	var parts []string
	for i, p := range ax.Values {
		if len(ax.Values) > 10 && i == 6 {
			parts = append(parts, "…")
		}
		if len(ax.Values) <= 10 || i < 6 || i >= len(ax.Values)-2 {
			parts = append(parts, point(p))
		}
	}
	return strings.Join(parts, ", ")
}

// writeTaskList prints one line per task: ordinal, short ID, the value of
// each varying path.
func writeTaskList(w io.Writer, spec *sweep.Spec) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	header := []string{"ordinal", "id"}
	for _, ax := range spec.Axes() {
		header = append(header, ax.Paths...)
	}
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for t, err := range spec.Tasks() {
		if err != nil {
			return err
		}
		row := []string{strconv.Itoa(t.Ordinal), t.ID[:12]}
		for _, a := range t.Point {
			row = append(row, sweep.FormatValue(a.Value))
		}
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	return tw.Flush()
}
