package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/urfave/cli/v2"
)

// logFileName is the log file `run` writes in the data dir when its
// terminal shows the live status (or with --quiet).
const logFileName = "sgsweep.log"

// runOutput is where `run` writes, by where its error output goes:
//
//   - a terminal (--progress auto or bar): one live status area (the bar,
//     then the running tasks) at the bottom; warnings and errors are printed
//     above it, all records (at --log-level) go to the log file
//     <data-dir>/sgsweep.log, whose path is printed once;
//   - anything else (pipes, CI, Slurm logs): log lines as before, progress
//     as a log line every 10 s (--progress log);
//   - --quiet: nothing but the summary on stdout; records go to the log file.
type runOutput struct {
	log     *slog.Logger
	display *progress
	// info receives the plan report: the error writer, the status area, or
	// io.Discard with --quiet.
	info    io.Writer
	area    *statusArea // nil without a live status
	logFile *os.File    // nil when logs go to the error writer
}

func newRunOutput(c *cli.Context) (*runOutput, error) {
	mode, err := progressMode(c.String("progress"), c.App.ErrWriter)
	if err != nil {
		return nil, usageError{err}
	}
	quiet := c.Bool("quiet")
	if mode != "bar" && !quiet {
		log, err := newLogger(c)
		if err != nil {
			return nil, usageError{err}
		}
		return &runOutput{log: log, display: newProgress(mode, nil, log), info: c.App.ErrWriter}, nil
	}

	o := &runOutput{}
	dir := string(dataDirOf(c))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, logFileName)
	if o.logFile, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644); err != nil {
		return nil, err
	}
	toFile, err := newLogHandler(c, o.logFile)
	if err != nil {
		o.close()
		return nil, usageError{err}
	}
	if quiet {
		o.log, o.info = slog.New(toFile), io.Discard
		o.display = newProgress("none", nil, o.log)
		return o, nil
	}
	o.area = newStatusArea(c.App.ErrWriter)
	toTerminal, _ := newLogHandler(c, o.area) // the flags were checked above
	o.log = slog.New(slog.NewMultiHandler(toFile, minLevel{toTerminal, slog.LevelWarn}))
	o.info = o.area
	fmt.Fprintf(o.area, "logs: %s (warnings and errors also here)\n", path)
	o.display = newProgress("bar", o.area, o.log)
	return o, nil
}

// showRunning makes the live status list the running tasks of the sweep,
// from their progress messages on nc.
func (o *runOutput) showRunning(nc *nats.Conn, sweepName string) {
	if o.area == nil {
		return
	}
	live := watchProgress(nc, sweepName)
	o.display.running = func() []string {
		var lines []string
		for _, p := range live.recent(time.Minute) {
			if p.Epoch.Epoch >= p.Epochs {
				continue // finished: its result is on its way
			}
			if len(lines) == maxRunningLines {
				lines = append(lines, "  …")
				break
			}
			lines = append(lines, fmt.Sprintf("  %s  epoch %d/%d  loss %.4g  val %.3f  (%s)",
				shortID(p.TaskID), p.Epoch.Epoch, p.Epochs, p.Epoch.TrainLoss, p.Epoch.ValAcc, p.Worker))
		}
		return lines
	}
}

// maxRunningLines is the number of running tasks the live status lists.
const maxRunningLines = 8

// close ends the live status and closes the log file.
func (o *runOutput) close() {
	if o.area != nil {
		o.area.Close()
	}
	if o.logFile != nil {
		o.logFile.Close()
	}
}

// minLevel passes the records of at least level to its handler.
type minLevel struct {
	slog.Handler
	level slog.Level
}

func (m minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= m.level && m.Handler.Enabled(ctx, l)
}

func (m minLevel) WithAttrs(attrs []slog.Attr) slog.Handler {
	return minLevel{m.Handler.WithAttrs(attrs), m.level}
}

func (m minLevel) WithGroup(name string) slog.Handler {
	return minLevel{m.Handler.WithGroup(name), m.level}
}

// printNextSteps says where the results of the sweep are and the commands
// that go on from there, with --data-dir when it is not the default.
func printNextSteps(c *cli.Context, w io.Writer, sweepName string) {
	dir := dataDirOf(c)
	flag := ""
	if filepath.Clean(string(dir)) != filepath.Clean(defaultDataDir) {
		flag = " --data-dir " + shellQuote(string(dir))
	}
	name := shellQuote(sweepName)
	steps := [][2]string{
		{"sgsweep results" + flag + " " + name, "mean, sd, 95% CI per grid cell"},
		{"sgsweep plot" + flag + " -o " + name + ".png --kind curves " + name, "learning curves"},
		{"sgsweep export" + flag + " -o " + name + ".csv " + name, "one row per task"},
	}
	width := 0
	for _, s := range steps {
		width = max(width, len(s[0]))
	}
	fmt.Fprintf(w, "\nresults: %s (sweep %s); go on with\n", dir.statePath(), sweepName)
	for _, s := range steps {
		fmt.Fprintf(w, "  %-*s  # %s\n", width, s[0], s[1])
	}
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./+=:,@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
