package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/sgsweep/sgsweep/sim"
	"github.com/sgsweep/sgsweep/worker"
)

func init() { commands = append(commands, workerTaskCommand) }

// workerTaskCommand is the hidden child process of a worker with
// --isolation process: it reads one task on stdin and writes its epochs and
// result as JSON lines on stdout (worker.ServeTask).
func workerTaskCommand() *cli.Command {
	return &cli.Command{
		Name:   "worker-task",
		Usage:  "train one task for a worker (internal: the worker's child process)",
		Hidden: true,
		Action: func(c *cli.Context) error {
			// A terminal's Ctrl-C reaches the whole process group: the
			// worker decides (drain, then kill); stdin's EOF or a kill
			// stops the child.
			signal.Ignore(os.Interrupt, syscall.SIGTERM)
			return worker.ServeTask(context.Background(), os.Stdin, os.Stdout, os.Stderr, inProcessRunner())
		},
	}
}

// inProcessRunner is the Runner that trains in this process: trainer if a
// test set it, else sim.Train.
func inProcessRunner() worker.Runner {
	if trainer != nil {
		return trainer
	}
	return sim.Train
}

// taskRunner is the Runner the worker flags ask for: each task in a child
// process (--isolation process, the default), or in the worker's own
// process (--isolation none, and whenever a test replaced trainer).
func taskRunner(c *cli.Context) (worker.Runner, error) {
	switch c.String("isolation") {
	case "none":
		return inProcessRunner(), nil
	case "process":
		if trainer != nil {
			return trainer, nil
		}
		exe, err := os.Executable()
		if err != nil {
			return nil, err
		}
		r := &worker.ProcessRunner{Path: exe, Args: []string{"worker-task"}}
		return r.Run, nil
	}
	return nil, usageError{fmt.Errorf("--isolation: %q is not one of process, none", c.String("isolation"))}
}
