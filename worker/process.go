package worker

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/sgsweep/sgsweep/sim"
)

// A CrashError keeps a child's first stderrHead and last stderrTail stderr
// lines (a Go crash says why first, then dumps goroutines); maxStderrLine
// bounds each line, in bytes.
const (
	stderrHead    = 4
	stderrTail    = 12
	maxStderrLine = 500
)

// ProcessRunner runs each task in a child process, so that a crash, an
// out-of-memory kill or a runaway task ends only that child: the child is
// the same binary re-executed with a hidden subcommand that calls
// ServeTask. Its Run method is a Runner.
//
// A child that ends without reporting the end of its run is a *CrashError
// (exit status or signal, first and last stderr lines): the worker retries the task
// within its delivery budget, then records it failed. Cancelling Run's
// context kills the child (SIGKILL: a run keeps nothing worth saving).
type ProcessRunner struct {
	// Path and Args are the child's command line (Args without the
	// program name), e.g. os.Executable() and ["worker-task"].
	Path string
	Args []string
	// Env is the child's environment; nil inherits the worker's.
	Env []string
}

// Run trains cfg in a new child process. opts.OnEpoch and opts.Stop are
// called in the worker's process, from Run's goroutine; while Stop decides,
// the child waits.
func (p *ProcessRunner) Run(ctx context.Context, cfg sim.Config, opts sim.Options) (*sim.Result, *sim.Timing, error) {
	req, err := json.Marshal(childRequest{Config: cfg, Threads: opts.Threads, DataDir: opts.DataDir,
		AwaitStop: opts.Stop != nil})
	if err != nil {
		return nil, nil, fmt.Errorf("encode task for the task process: %w", err)
	}
	cmd := exec.CommandContext(ctx, p.Path, p.Args...)
	cmd.Env = p.Env
	cmd.WaitDelay = 5 * time.Second // a grandchild holding the pipes open
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, nil, &CrashError{ExitCode: -1, Err: err}
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, &CrashError{ExitCode: -1, Err: err}
	}
	tail := &lineTail{}
	cmd.Stderr = tail
	if err := cmd.Start(); err != nil {
		return nil, nil, &CrashError{ExitCode: -1, Err: fmt.Errorf("start: %w", err)}
	}
	// The child keeps reading stdin after the request: EOF tells it the
	// worker is gone. Close it only once the child has ended.
	go stdin.Write(append(req, '\n'))

	onEpoch := opts.OnEpoch
	if opts.Stop != nil {
		onEpoch = func(e sim.Epoch, seconds float64) {
			if opts.OnEpoch != nil {
				opts.OnEpoch(e, seconds)
			}
			// As sim.Train, never ask about the last epoch.
			answer, _ := json.Marshal(stopLine{Stop: e.Epoch < cfg.Train.Epochs && opts.Stop(e)})
			// A child that is gone shows on stdout: EOF, no last line.
			stdin.Write(append(answer, '\n'))
		}
	}
	last, readErr := readChild(stdout, onEpoch)
	if readErr != nil {
		cmd.Process.Kill() // it may be blocked writing what we no longer read
	}
	waitErr := cmd.Wait()
	stdin.Close()
	if ctx.Err() != nil {
		return nil, nil, ctx.Err()
	}
	if last != nil && waitErr == nil {
		return last.Result, last.Timing, last.err()
	}
	crash := &CrashError{ExitCode: -1, Stderr: tail.lines()}
	var ee *exec.ExitError
	switch {
	case readErr != nil:
		crash.Err = fmt.Errorf("read its output: %w", readErr)
	case errors.As(waitErr, &ee):
		crash.ExitCode = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			crash.Signal = ws.Signal().String()
		}
	case waitErr != nil:
		crash.Err = waitErr
	default:
		crash.ExitCode = 0
	}
	return nil, nil, crash
}

// readChild reads the child's JSON lines until EOF, passing epochs to
// onEpoch (if not nil), and returns the line that ended the run (nil if
// none came). Lines after it are ignored.
func readChild(r io.Reader, onEpoch func(sim.Epoch, float64)) (*childLine, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 256<<20) // a result holds every epoch
	var last *childLine
	for sc.Scan() {
		if last != nil {
			continue
		}
		var l childLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return nil, fmt.Errorf("line %.200q: %w", sc.Text(), err)
		}
		switch {
		case l.Done:
			last = &l
		case l.Epoch != nil && onEpoch != nil:
			onEpoch(*l.Epoch, l.Seconds)
		}
	}
	return last, sc.Err()
}

// lineTail is an io.Writer that keeps the first stderrHead and the last
// stderrTail lines written to it, each cut to maxStderrLine bytes.
type lineTail struct {
	mu         sync.Mutex
	partial    []byte
	head, tail []string
	dropped    int
}

func (t *lineTail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := len(p)
	for len(p) > 0 {
		i := strings.IndexByte(string(p), '\n')
		if i < 0 {
			if len(t.partial) < maxStderrLine {
				t.partial = append(t.partial, p[:min(len(p), maxStderrLine-len(t.partial))]...)
			}
			break
		}
		if len(t.partial) < maxStderrLine {
			t.partial = append(t.partial, p[:min(i, maxStderrLine-len(t.partial))]...)
		}
		t.push(string(t.partial))
		t.partial = t.partial[:0]
		p = p[i+1:]
	}
	return n, nil
}

func (t *lineTail) push(line string) {
	if len(t.head) < stderrHead {
		t.head = append(t.head, line)
		return
	}
	t.tail = append(t.tail, line)
	if len(t.tail) > stderrTail {
		t.tail = t.tail[1:]
		t.dropped++
	}
}

// lines returns the kept lines, the unfinished last one included, with a
// line saying how many were left out between head and tail.
func (t *lineTail) lines() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := append([]string(nil), t.head...)
	if t.dropped > 0 {
		out = append(out, fmt.Sprintf("… %d lines …", t.dropped))
	}
	out = append(out, t.tail...)
	if len(t.partial) > 0 {
		out = append(out, string(t.partial))
	}
	return out
}
