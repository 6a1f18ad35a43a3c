package worker

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/sgsweep/sgsweep/sim"
)

// The child protocol between ProcessRunner (the parent) and ServeTask (the
// child): the parent writes one childRequest as JSON to the child's stdin
// and keeps stdin open; the child writes JSON lines to stdout, one
// childLine per finished epoch and a last one with the result or the
// error, then exits 0. Stdin reaching EOF (the parent closed it or died)
// cancels the run. Anything else (no last line, a non-zero exit, a signal)
// is a crash of the child.
//
// When the request has AwaitStop (the parent's sim.Options.Stop is set),
// the parent answers each epoch line with one stopLine on stdin, and the
// child's run waits for that answer (its Options.Stop) before it trains
// the next epoch. Without it, nothing is written after the request.

// childRequest is the task a child trains.
type childRequest struct {
	Config  sim.Config `json:"config"`
	Threads int        `json:"threads"`
	DataDir string     `json:"data_dir"`
	// AwaitStop says that the parent answers every epoch line with a
	// stopLine.
	AwaitStop bool `json:"await_stop,omitempty"`
}

// stopLine is the parent's answer to an epoch line: whether the run ends
// after that epoch (sim.Options.Stop).
type stopLine struct {
	Stop bool `json:"stop"`
}

// childLine is one line of a child's stdout: an epoch (Epoch set), or the
// end of the run (Done set) with a result or an error.
type childLine struct {
	Epoch   *sim.Epoch `json:"epoch,omitempty"`
	Seconds float64    `json:"seconds,omitempty"`

	Done   bool        `json:"done,omitempty"`
	Result *sim.Result `json:"result,omitempty"`
	Timing *sim.Timing `json:"timing,omitempty"`
	// Error is the run's error text; Deterministic says whether it would
	// recur on any worker (see deterministic), Canceled that the run was
	// cancelled.
	Error         string `json:"error,omitempty"`
	Deterministic bool   `json:"deterministic,omitempty"`
	Canceled      bool   `json:"canceled,omitempty"`
}

// ChildError is a task error the child process reported: its text, and
// whether it is deterministic (an invalid configuration, a panic of the
// simulator in the child).
type ChildError struct {
	Msg   string
	Final bool
}

func (e *ChildError) Error() string       { return e.Msg }
func (e *ChildError) Deterministic() bool { return e.Final }

// CrashError is a child process that ended without reporting the end of its
// run: it crashed, was killed (by the OOM killer, a signal, a memory limit)
// or exited. It may be environmental, so the task is retried within its
// delivery budget.
type CrashError struct {
	// ExitCode is the child's exit status, −1 if a signal ended it.
	ExitCode int
	// Signal names the signal that ended the child, "" if it exited.
	Signal string
	// Stderr holds the first and last lines the child wrote to its stderr.
	Stderr []string
	// Err is a failure to start or talk to the child, if any.
	Err error
}

func (e *CrashError) Error() string {
	msg := "task process "
	switch {
	case e.Err != nil:
		msg += e.Err.Error()
	case e.Signal != "":
		msg += "killed by signal " + e.Signal
	default:
		msg += fmt.Sprintf("exited with status %d without a result", e.ExitCode)
	}
	if len(e.Stderr) > 0 {
		data, _ := json.Marshal(e.Stderr)
		msg += "; last stderr lines: " + string(data)
	}
	return msg
}

func (e *CrashError) Unwrap() error { return e.Err }

// errorLine is the last line for a run's error.
func errorLine(err error, canceled bool) childLine {
	return childLine{Done: true, Error: err.Error(), Deterministic: deterministic(err), Canceled: canceled}
}

// lineError is the error a child's last line reports, nil for a result.
func (l *childLine) err() error {
	if l.Error == "" {
		if l.Result == nil {
			return errors.New("task process reported neither a result nor an error")
		}
		return nil
	}
	return &ChildError{Msg: l.Error, Final: l.Deterministic}
}
