package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/sgsweep/sgsweep/coordinator"
	"github.com/sgsweep/sgsweep/dashboard"
	"github.com/sgsweep/sgsweep/results"
	"github.com/sgsweep/sgsweep/results/store"
	"github.com/sgsweep/sgsweep/worker"
)

func init() { commands = append(commands, runCommand) }

func runCommand() *cli.Command {
	flags := []cli.Flag{
		dataDirFlag(),
		&cli.IntFlag{Name: "workers", Aliases: []string{"w"}, Value: runtime.NumCPU(),
			Usage: "local worker slots (0: coordinator only, for workers elsewhere)", EnvVars: []string{"SGSWEEP_WORKERS"}},
		&cli.BoolFlag{Name: "extend", Usage: "accept a spec that changed since the sweep was planned: plan the new " +
			"tasks (results of tasks that left the spec stay in the store)", EnvVars: []string{"SGSWEEP_EXTEND"}},
		&cli.StringFlag{Name: "progress", Value: "auto", Usage: "progress display: bar (a live status), log (a line " +
			"every 10 s), none, or auto (bar on a terminal, else log); with the bar, logs go to sgsweep.log in " +
			"the data dir and only warnings and errors to the terminal", EnvVars: []string{"SGSWEEP_PROGRESS"}},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print only the summary (logs go to sgsweep.log in the data dir)",
			EnvVars: []string{"SGSWEEP_QUIET"}},
	}
	flags = append(flags, natsFlags()...)
	flags = append(flags, coordinatorFlags()...)
	flags = append(flags, workerFlags()...)
	flags = append(flags, httpFlags("")...)
	return &cli.Command{
		Name:      "run",
		Usage:     "run a sweep on this machine: embedded NATS, coordinator and workers; rerun to resume",
		ArgsUsage: "SPEC.yaml",
		Description: "Plans the spec's tasks in the store of --data-dir, starts an embedded NATS server with\n" +
			"JetStream (or uses --nats), the coordinator and --workers local worker slots, shows progress, and\n" +
			"prints a summary table (test accuracy per grid cell over seeds) when every task is done or failed.\n" +
			"Ctrl-C stops cleanly: running tasks get --drain-timeout to finish, the rest go back to the queue.\n" +
			"Running the same command again resumes: nothing stored is recomputed, and a task whose\n" +
			"configuration has a result in the store from any sweep is done already. A changed spec under the\n" +
			"same name is refused with a diff unless --extend. Other unfinished sweeps of the store are resumed\n" +
			"too (their tasks are queued; the command returns when this one is done). Workers on other machines can join with\n" +
			"`sgsweep worker --nats URL --nats-token TOKEN` (see nats.json in the data dir; the embedded\n" +
			"server listens on 127.0.0.1 only: use `sgsweep coordinator --listen` to serve a network).",
		Flags:  flags,
		Action: runRun,
	}
}

// interruptedError is a run stopped by a signal: exit status 130.
type interruptedError struct{ msg string }

func (e interruptedError) Error() string { return e.msg }
func (e interruptedError) ExitCode() int { return 130 }

func runRun(c *cli.Context) error {
	if c.NArg() != 1 {
		return usageError{fmt.Errorf("run takes one spec file, got %d arguments", c.NArg())}
	}
	out, err := newRunOutput(c)
	if err != nil {
		return err
	}
	defer out.close()
	log, display := out.log, out.display
	path := c.Args().First()
	source, spec, err := readSpec(path)
	if err != nil {
		return err
	}
	ccfg, err := coordinatorConfigOf(c, log)
	if err != nil {
		return err
	}
	slots := c.Int("workers")
	if slots < 0 {
		return usageError{fmt.Errorf("--workers must be ≥ 0, got %d", slots)}
	}
	wcfg, err := workerConfigOf(c, max(slots, 1), log)
	if err != nil {
		return err
	}

	ctx := c.Context
	start := time.Now()
	b, err := startBackend(c, log, "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer b.close()
	coord, err := b.newCoordinator(ccfg)
	if err != nil {
		return err
	}
	rep, err := coord.SubmitSpec(ctx, spec, path, source, c.Bool("extend"))
	if err != nil {
		return err
	}
	printPlanReport(out.info, rep)
	if slots > 0 && rep.Pending > 0 {
		// Fail now, not task by task, when the local workers lack data.
		if err := checkDatasets(spec.Tasks(), wcfg.DataDir); err != nil {
			return fmt.Errorf("sweep %s: %w", spec.Name, err)
		}
	}
	out.showRunning(b.nc, spec.Name)
	stopDashboard, err := startDashboard(c, out.log, dashboard.CoordinatorSource(b.store, coord), coord)
	if err != nil {
		return err
	}
	defer stopDashboard() // before the store closes

	coordCtx, stopCoord := context.WithCancel(context.WithoutCancel(ctx))
	defer stopCoord()
	coordDone := make(chan error, 1)
	go func() { coordDone <- coord.Run(coordCtx) }()
	select {
	case <-coord.Ready():
	case err := <-coordDone:
		return fmt.Errorf("coordinator: %w", err)
	case <-ctx.Done():
	}

	workCtx, stopWork := context.WithCancel(ctx)
	defer stopWork()
	workDone := make(chan error, 1)
	if slots > 0 && rep.State == store.SweepRunning {
		nc, err := b.connect(ctx, "sgsweep-run-worker")
		if err != nil {
			return err
		}
		run, err := taskRunner(c)
		if err != nil {
			return err
		}
		w, err := worker.New(nc, run, wcfg)
		if err != nil {
			return err
		}
		go func() { workDone <- w.Run(workCtx) }()
	} else {
		workDone <- nil
	}
	go exitOnSecondSignal(ctx, log)

	final, werr := watch(ctx, coord, spec.Name, display, coordDone)
	display.finish()
	stopWork() // a no-op if the sweep finished; else drain the running tasks
	if err := <-workDone; err != nil {
		log.Error("worker", "err", err)
	}
	stopCoord() // results of drained tasks are committed by now
	if err := <-coordDone; err != nil && werr == nil {
		werr = fmt.Errorf("coordinator: %w", err)
	}
	if werr != nil {
		return werr
	}
	if final == nil || ctx.Err() != nil {
		info, _ := b.store.Sweep(context.Background(), spec.Name)
		msg := "interrupted"
		if info != nil {
			msg = fmt.Sprintf("interrupted: %d of %d tasks done%s, %d failed; run the same command again to resume",
				info.Done, info.Expected, stoppedNote(info.Stopped), info.Failed)
		}
		return interruptedError{msg}
	}
	return printSummary(c, b.store, final, time.Since(start))
}

// watch shows progress until the sweep is no longer running, ctx is
// cancelled (nil info), or the coordinator stops.
func watch(ctx context.Context, coord *coordinator.Coordinator, name string, display *progress,
	coordDone chan error) (*store.SweepInfo, error) {
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		st, err := coord.Status(context.WithoutCancel(ctx), coordinator.StatusRequest{Sweep: name})
		if err != nil {
			return nil, err
		}
		s := st.Sweeps[0]
		display.update(&s, st.Rate)
		if s.State != store.SweepRunning {
			return &s.SweepInfo, nil
		}
		select {
		case <-ctx.Done():
			return nil, nil
		case err := <-coordDone:
			coordDone <- err
			if err == nil {
				err = errors.New("coordinator stopped")
			}
			return nil, err
		case <-tick.C:
		}
	}
}

func printPlanReport(w io.Writer, rep *store.PlanReport) {
	switch rep.Outcome {
	case store.PlanCreated:
		fmt.Fprintf(w, "sweep %s: %d tasks planned", rep.Sweep, rep.Tasks)
	case store.PlanResumed:
		fmt.Fprintf(w, "sweep %s: resuming, %d tasks", rep.Sweep, rep.Tasks)
	case store.PlanExtended:
		fmt.Fprintf(w, "sweep %s: extended to %d tasks (%d new to the sweep, %d cells left the spec; their results stay in the store)",
			rep.Sweep, rep.Tasks, rep.Added, rep.Dropped)
	}
	fmt.Fprintf(w, "; %d done already%s, %d failed, %d to run\n", rep.Done, stoppedNote(rep.Stopped), rep.Failed, rep.Pending)
}

// stoppedNote is ", N stopped early" when n > 0, else "": sweeps without
// early stopping print what they always printed.
func stoppedNote(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(", %d stopped early", n)
}

// printSummary prints the final counts and, per grid cell, the test accuracy
// over seeds (the results query of `sgsweep results`).
func printSummary(c *cli.Context, st *store.Store, info *store.SweepInfo, took time.Duration) error {
	w := c.App.Writer
	fmt.Fprintf(w, "sweep %s %s in %s: %d tasks, %d done (%d diverged)%s, %d failed\n",
		info.Name, info.State, took.Round(time.Second), info.Expected, info.Done, info.Diverged,
		stoppedNote(info.Stopped), info.Failed)
	if info.Conflicts > 0 {
		fmt.Fprintf(w, "warning: %d differing results of tasks that already had one (see `sgsweep status %s`)\n",
			info.Conflicts, info.Name)
	}
	if info.Failed > 0 {
		fmt.Fprintf(w, "%d tasks failed: `sgsweep status %s` shows why; `sgsweep retry %s --failed` runs them again\n",
			info.Failed, info.Name, info.Name)
	}
	table, err := results.RunQuery(c.Context, st, results.QueryRequest{Sweep: info.Name,
		Metrics: []string{"test_acc"}, Aggs: []string{"n", "mean", "sd"}})
	if err != nil {
		return fmt.Errorf("summary: %w", err)
	}
	fmt.Fprintln(w)
	if err := table.WriteText(w); err != nil {
		return err
	}
	printNextSteps(c, w, info.Name)
	return nil
}
