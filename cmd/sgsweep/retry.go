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
	}
	return &cli.Command{
		Name:      "retry",
		Usage:     "run a sweep's failed tasks again",
		ArgsUsage: "--failed SWEEP",
		Description: "Asks the running coordinator to make the sweep's failed tasks pending again and queue them\n" +
			"(with a new message ID). Use it after fixing what made them fail (a missing data file, a\n" +
			"crashing machine); a task that fails deterministically fails again.",
		Flags:  append(flags, natsFlags()...),
		Action: runRetry,
	}
}

func runRetry(c *cli.Context) error {
	if c.NArg() != 1 {
		return usageError{fmt.Errorf("retry takes one sweep name, got %d arguments", c.NArg())}
	}
	if !c.Bool("failed") {
		return usageError{errors.New("say what to retry: --failed (the failed tasks)")}
	}
	log, err := newLogger(c)
	if err != nil {
		return usageError{err}
	}
	rep, err := askCoordinator(c, log, (*coordinator.Client).Retry, coordinator.RetryRequest{Sweep: c.Args().First()})
	if err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "sweep %s: %d failed tasks queued again\n", rep.Sweep, rep.Retried)
	return nil
}
