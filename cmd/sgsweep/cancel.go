package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/sgsweep/sgsweep/coordinator"
)

func init() { commands = append(commands, cancelCommand) }

func cancelCommand() *cli.Command {
	return &cli.Command{
		Name:      "cancel",
		Usage:     "cancel a sweep: withdraw its queued tasks",
		ArgsUsage: "SWEEP",
		Description: "Asks the running coordinator to withdraw the sweep's queued tasks; tasks running on workers\n" +
			"finish and their results are stored. Submitting (or running) the spec again resumes the sweep.",
		Flags:  append([]cli.Flag{dataDirFlag()}, natsFlags()...),
		Action: runCancel,
	}
}

func runCancel(c *cli.Context) error {
	if c.NArg() != 1 {
		return usageError{fmt.Errorf("cancel takes one sweep name, got %d arguments", c.NArg())}
	}
	log, err := newLogger(c)
	if err != nil {
		return usageError{err}
	}
	rep, err := askCoordinator(c, log, (*coordinator.Client).Cancel, coordinator.CancelRequest{Sweep: c.Args().First()})
	if err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "sweep %s %s: %d queued tasks withdrawn\n", rep.Sweep, rep.State, rep.Withdrawn)
	return nil
}
