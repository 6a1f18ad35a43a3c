package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/sgsweep/sgsweep/coordinator"
	"github.com/sgsweep/sgsweep/sweep"
)

func init() { commands = append(commands, submitCommand) }

// controlTimeout bounds a control request (planning a large sweep included).
const controlTimeout = 2 * time.Minute

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
	data, err := os.ReadFile(path)
	if err != nil {
		return usageError{err}
	}
	if _, err := sweep.Parse(path, data); err != nil {
		return usageError{err}
	}
	client, closeConn, err := dialCoordinator(c, log)
	if err != nil {
		return noCoordinator(err)
	}
	defer closeConn()
	ctx, cancel := context.WithTimeout(c.Context, controlTimeout)
	defer cancel()
	rep, err := client.Submit(ctx, coordinator.SubmitRequest{SpecName: path, Spec: data, Extend: c.Bool("extend")})
	if err != nil {
		return noCoordinator(err)
	}
	printPlanReport(c.App.Writer, rep)
	return nil
}

// noCoordinator turns ErrNoCoordinator into advice; other errors pass.
func noCoordinator(err error) error {
	if errors.Is(err, coordinator.ErrNoCoordinator) {
		return fmt.Errorf("%w: start one with `sgsweep coordinator` (or `sgsweep run`), or point --nats/--data-dir at it", err)
	}
	return err
}
