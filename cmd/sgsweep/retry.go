package main

import (
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/sgsweep/sgsweep/coordinator"
)

func init() { commands = append(commands, retryCommand) }

func retryCommand() *cli.Command {
	flags := []cli.Flag{
		dataDirFlag(),
		&cli.BoolFlag{Name: "failed", Usage: "run the sweep's failed tasks again", EnvVars: []string{"SGSWEEP_RETRY_FAILED"}},
		&cli.BoolFlag{Name: "stopped", Usage: "train the sweep's stopped tasks to the end",
			EnvVars: []string{"SGSWEEP_RETRY_STOPPED"}},
		&cli.BoolFlag{Name: "disputed", Usage: "compute the sweep's disputed tasks on a third worker",
			EnvVars: []string{"SGSWEEP_RETRY_DISPUTED"}},
	}
	return &cli.Command{
		Name:      "retry",
		Usage:     "run a sweep's failed tasks again, train its stopped tasks to the end, or settle disputes",
		ArgsUsage: "--failed|--stopped|--disputed SWEEP",
		Description: "Asks the running coordinator to make the sweep's failed tasks (--failed) or the tasks its\n" +
			"stopping rules ended early (--stopped) pending again and queue them (with a new message ID).\n" +
			"Use --failed after fixing what made them fail (a missing data file, a crashing machine); a task\n" +
			"that fails deterministically fails again. --stopped trains stopped tasks to the end, with no\n" +
			"stop decision: their stopped results are kept aside in the store with their decisions, which\n" +
			"are marked overridden (see docs/stopping.md). --disputed computes the tasks whose verification by\n" +
			"recomputation gave differing results once more, on a worker that gave neither: the result two\n" +
			"of the three share is kept (see docs/scale-out.md, Security).",
		Flags:  append(flags, natsFlags()...),
		Action: runRetry,
	}
}

func runRetry(c *cli.Context) error {
	if c.NArg() != 1 {
		return usageError{fmt.Errorf("retry takes one sweep name, got %d arguments", c.NArg())}
	}
	failed, stopped, disputed := c.Bool("failed"), c.Bool("stopped"), c.Bool("disputed")
	if !failed && !stopped && !disputed {
		return usageError{errors.New("say what to retry: --failed (the failed tasks), --stopped (the stopped tasks), " +
			"--disputed (the disputed tasks)")}
	}
	log, err := newLogger(c)
	if err != nil {
		return usageError{err}
	}
	req := coordinator.RetryRequest{Sweep: c.Args().First(), Failed: failed, Stopped: stopped, Disputed: disputed}
	rep, err := askCoordinator(c, log, (*coordinator.Client).Retry, req)
	if err != nil {
		return err
	}
	if failed {
		fmt.Fprintf(c.App.Writer, "sweep %s: %d failed tasks queued again\n", rep.Sweep, rep.Retried)
	}
	if stopped {
		fmt.Fprintf(c.App.Writer, "sweep %s: %d stopped tasks queued again, to be trained to the end\n",
			rep.Sweep, rep.Stopped)
	}
	if disputed {
		fmt.Fprintf(c.App.Writer, "sweep %s: %d disputed tasks queued again, for a third worker\n", rep.Sweep, rep.Disputed)
	}
	return nil
}
