package worker

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"runtime/debug"
	"sync"

	"github.com/sgsweep/sgsweep/sim"
)

// ServeTask is the child's side of ProcessRunner: it reads one task from in,
// trains it with run and writes its epochs and its end to out as JSON lines
// (see child.go); when the task awaits stop answers, it reads one from in
// after each epoch and hands it to the run as sim.Options.Stop. It returns
// an error only when it cannot talk to the parent; the run's own error goes
// to out. The run is cancelled when ctx is or when in reaches EOF (the
// parent closed it, or died) or holds something other than stop answers. A
// panic of run is reported as a deterministic error and its stack written
// to stderr.
func ServeTask(ctx context.Context, in io.Reader, out, stderr io.Writer, run Runner) error {
	dec := json.NewDecoder(in)
	var req childRequest
	if err := dec.Decode(&req); err != nil {
		return fmt.Errorf("read task: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	answers := make(chan bool)
	go func() {
		defer cancel()
		if !req.AwaitStop {
			io.Copy(io.Discard, io.MultiReader(dec.Buffered(), in))
			return
		}
		for {
			var a stopLine
			if err := dec.Decode(&a); err != nil {
				if err != io.EOF && stderr != nil {
					fmt.Fprintf(stderr, "read stop answer: %v\n", err)
				}
				return
			}
			select {
			case answers <- a.Stop:
			case <-ctx.Done():
				return
			}
		}
	}()

	w := bufio.NewWriter(out)
	var mu sync.Mutex
	var werr error
	write := func(l childLine) {
		mu.Lock()
		defer mu.Unlock()
		data, err := json.Marshal(l)
		if err != nil {
			// NaN in a result the simulator did not mark diverged: as
			// Worker.report does in process, a deterministic failure.
			data, _ = json.Marshal(childLine{Done: true, Error: "unencodable result: " + err.Error(), Deterministic: true})
		}
		if werr == nil {
			_, werr = w.Write(append(data, '\n'))
		}
		if werr == nil {
			werr = w.Flush()
		}
	}
	opts := sim.Options{Threads: req.Threads, DataDir: req.DataDir, OnEpoch: func(e sim.Epoch, seconds float64) {
		write(childLine{Epoch: &e, Seconds: seconds})
	}}
	if req.AwaitStop {
		// The answer to the epoch line OnEpoch has just written; none
		// (cancelled) means go on, to the cancellation at the next
		// minibatch.
		opts.Stop = func(sim.Epoch) bool {
			select {
			case stop := <-answers:
				return stop
			case <-ctx.Done():
				return false
			}
		}
	}
	res, timing, err := runRecovering(ctx, run, req.Config, opts, stderr)
	switch {
	case err != nil:
		write(errorLine(err, ctx.Err() != nil))
	default:
		write(childLine{Done: true, Result: res, Timing: timing})
	}
	return werr
}

// runRecovering runs run, turning a panic into a *PanicError whose stack
// also goes to stderr (nil: nowhere).
func runRecovering(ctx context.Context, run Runner, cfg sim.Config, opts sim.Options,
	stderr io.Writer) (res *sim.Result, timing *sim.Timing, err error) {
	defer func() {
		if p := recover(); p != nil {
			pe := &PanicError{Value: fmt.Sprint(p), Stack: string(debug.Stack())}
			if stderr != nil {
				fmt.Fprintf(stderr, "panic: %s\n%s", pe.Value, pe.Stack)
			}
			res, timing, err = nil, nil, pe
		}
	}()
	return run(ctx, cfg, opts)
}
