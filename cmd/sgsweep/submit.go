package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/sgsweep/sgsweep/coordinator"
)

func init() { commands = append(commands, submitCommand) }

func submitCommand() *cli.Command {
	flags := []cli.Flag{
		dataDirFlag(),
		&cli.BoolFlag{Name: "extend", Usage: "accept a spec that changed since the sweep was planned: plan the new " +
			"tasks (results of tasks that left the spec stay in the store)", EnvVars: []string{"SGSWEEP_EXTEND"}},
	}
	flags = append(flags, natsFlags()...)
	return &cli.Command{
		Name:      "submit",
		Usage:     "submit a sweep spec to a running coordinator",
		ArgsUsage: "SPEC.yaml",
		Description: "Checks the spec here (exit status 2 when invalid), then sends it to the coordinator, which\n" +
			"plans its tasks and queues those without a result. Submitting the same name and spec again\n" +
			"resumes the sweep; a changed spec under the same name is refused with a diff unless --extend.",
		Flags:  flags,
		Action: runSubmit,
	}
}

func runSubmit(c *cli.Context) error {
	if c.NArg() != 1 {
		return usageError{fmt.Errorf("submit takes one spec file, got %d arguments", c.NArg())}
	}
	log, err := newLogger(c)
	if err != nil {
		return usageError{err}
	}
	path := c.Args().First()
	data, _, err := readSpec(path)
	if err != nil {
		return err
	}
	req := coordinator.SubmitRequest{SpecName: path, Spec: data, Extend: c.Bool("extend")}
	rep, err := askCoordinator(c, log, (*coordinator.Client).Submit, req)
	if err != nil {
		return err
	}
	printPlanReport(c.App.Writer, rep)
	return nil
}
