package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/creack/pty"

	"github.com/sgsweep/sgsweep/coordinator/coordtest"
)

// screen returns the lines a terminal shows (history included) after
// receiving out: it interprets CR, LF, cursor up (CSI n A) and erase to the
// end of the screen (CSI J) or line (CSI K), the sequences a statusArea
// uses, and writes other runes over what is at the cursor. An unknown
// escape sequence fails the test.
func screen(t *testing.T, out string) []string {
	t.Helper()
	lines := [][]rune{nil}
	row, col := 0, 0
	for i := 0; i < len(out); {
		switch c := out[i]; c {
		case '\r':
			col, i = 0, i+1
		case '\n':
			row, i = row+1, i+1
			if row == len(lines) {
				lines = append(lines, nil)
			}
		case '\033':
			j := i + 2
			for j < len(out) && out[j] >= '0' && out[j] <= '9' {
				j++
			}
			if i+1 >= len(out) || out[i+1] != '[' || j >= len(out) {
				t.Fatalf("unfinished escape sequence at byte %d: %q", i, out[i:min(i+10, len(out))])
			}
			n := 1
			if j > i+2 {
				n, _ = strconv.Atoi(out[i+2 : j])
			}
			switch out[j] {
			case 'A':
				row = max(row-n, 0)
			case 'J':
				lines[row] = lines[row][:min(col, len(lines[row]))]
				lines = lines[:row+1]
			case 'K':
				lines[row] = lines[row][:min(col, len(lines[row]))]
			default:
				t.Fatalf("unexpected escape sequence %q", out[i:j+1])
			}
			i = j + 1
		default:
			r, size := utf8.DecodeRuneInString(out[i:])
			for len(lines[row]) < col {
				lines[row] = append(lines[row], ' ')
			}
			if col < len(lines[row]) {
				lines[row][col] = r
			} else {
				lines[row] = append(lines[row], r)
			}
			col, i = col+1, i+size
		}
	}
	text := make([]string, len(lines))
	for k, l := range lines {
		text[k] = string(l)
	}
	return text
}

// TestStatusArea: text written goes above the block; the block is redrawn
// in place, and stays on the screen after Close.
func TestStatusArea(t *testing.T) {
	var buf bytes.Buffer
	a := newStatusArea(&buf)
	a.Set("bar 1/3", "  task a", "  task b")
	a.Write([]byte("first record\nsecond "))
	a.Set("bar 2/3", "  task b")
	a.Write([]byte("record\n"))
	a.Set("bar 3/3")
	n := buf.Len()
	if a.Set("bar 3/3"); buf.Len() != n {
		t.Errorf("setting the same lines again wrote %q", buf.String()[n:])
	}
	a.Close()
	a.Set("after close")
	a.Write([]byte("late line\n"))
	// A terminal's line discipline turns LF into CR LF (onlcr).
	got := strings.Join(screen(t, strings.ReplaceAll(buf.String(), "\n", "\r\n")), "|")
	if want := "first record|second record|bar 3/3|late line|"; got != want {
		t.Errorf("screen %q, want %q", got, want)
	}
}

// TestRunOnTerminal runs `sgsweep run` under a pseudo-terminal: the live
// status (bar and running tasks) and the warnings of failing tasks share
// the screen without a record ever written into a status line; the
// informational records go to the log file only.
func TestRunOnTerminal(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	spec := coordtest.Spec(t, dir, "tty", 3, []float64{0.01, 0.02}, "")
	fake := &coordtest.Fake{Sleep: 300 * time.Millisecond, Fail: []uint64{3}} // seed 3: retried, then failed
	args := append([]string{"run", "--data-dir", state, "--workers", "2", "--retry-delay", "100ms"}, fastFlags...)
	cmd := exec.Command(os.Args[0], append(args, spec)...)
	cmd.Env = append(os.Environ(), asMainEnv+"=1", fake.Env())
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 160})
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()
	done := make(chan []byte)
	go func() {
		out, err := io.ReadAll(tty) // ends with EIO when the process exits
		if err != nil && !errors.Is(err, syscall.EIO) {
			t.Errorf("reading the terminal: %v", err)
		}
		done <- out
	}()
	var out []byte
	select {
	case out = <-done:
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		t.Fatalf("run still running after 2 minutes; output so far:\n%s", <-done)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	lines := screen(t, string(out))
	t.Logf("the terminal shows:\n%s", strings.Join(lines, "\n"))

	var bars, warnings int
	for _, l := range lines {
		if strings.Contains(l, "tasks/s") {
			bars++
		}
		if !strings.Contains(l, "level=") {
			continue
		}
		if !strings.HasPrefix(l, "time=") || strings.Contains(l, "tasks/s") || strings.Contains(l, "[#") {
			t.Errorf("a log record shares a line with the status: %q", l)
		}
		if strings.Contains(l, "level=INFO") {
			t.Errorf("an informational record on the terminal: %q", l)
		}
		if strings.Contains(l, "level=WARN") {
			warnings++
		}
	}
	if bars != 1 {
		t.Errorf("%d lines with a progress bar left on the screen, want the final one", bars)
	}
	if warnings == 0 {
		t.Errorf("no warning on the terminal; the failing tasks should have logged some")
	}
	screenText := strings.Join(lines, "\n")
	logPath := filepath.Join(state, logFileName)
	for _, want := range []string{"logs: " + logPath + " (warnings and errors also here)", "sweep tty: 6 tasks planned",
		"tty [########################] 4/6 done · 2 failed", "sweep tty done in ", "6 tasks, 4 done (0 diverged), 2 failed",
		"results: " + filepath.Join(state, "state.db") + " (sweep tty); go on with", "sgsweep results --data-dir " + state + " tty"} {
		if !strings.Contains(screenText, want) {
			t.Errorf("the terminal does not show %q", want)
		}
	}
	logged, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(logged, []byte("level=INFO")) || !bytes.Contains(logged, []byte("level=WARN")) {
		t.Errorf("the log file lacks the informational records or the warnings:\n%s", logged)
	}
}

// TestRunQuiet: --quiet prints the summary and nothing else.
func TestRunQuiet(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	spec := coordtest.Spec(t, dir, "quiet", 2, nil, "")
	fake := &coordtest.Fake{Sleep: 10 * time.Millisecond}
	old := trainer
	trainer = fake.Train
	defer func() { trainer = old }()
	out, errOut, err := runCLI(t, append(append([]string{"run", "--quiet", "--data-dir", state, "--workers", "2"}, fastFlags...), spec)...)
	if err != nil {
		t.Fatalf("run --quiet: %v\n%s", err, errOut)
	}
	if errOut != "" {
		t.Errorf("run --quiet wrote to stderr:\n%s", errOut)
	}
	if !strings.HasPrefix(out, "sweep quiet done in ") || !strings.Contains(out, "test_acc.mean") {
		t.Errorf("run --quiet's stdout is not the summary:\n%s", out)
	}
	if logged, err := os.ReadFile(filepath.Join(state, logFileName)); err != nil || !bytes.Contains(logged, []byte("level=INFO")) {
		t.Errorf("run --quiet logged nothing to its log file (%v)", err)
	}
}
