package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/sgsweep/sgsweep/coordinator"
)

// progress shows a running sweep: a live line on a terminal, a log line
// every logEvery otherwise.
type progress struct {
	mode    string // bar, log or none
	w       io.Writer
	log     *slog.Logger
	last    time.Time
	drawn   bool
	settled int
}

// logEvery is the interval of progress log lines.
const logEvery = 10 * time.Second

func newProgress(mode string, w io.Writer, log *slog.Logger) (*progress, error) {
	switch mode {
	case "auto":
		mode = "log"
		if isTerminal(w) {
			mode = "bar"
		}
	case "bar", "log", "none":
	default:
		return nil, fmt.Errorf("--progress: %q is not one of auto, bar, log, none", mode)
	}
	return &progress{mode: mode, w: w, log: log, settled: -1}, nil
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// update shows the sweep's state; rate is in tasks per second.
func (p *progress) update(s *coordinator.SweepStatus, rate float64) {
	now := time.Now()
	settled := s.Done + s.Failed
	switch p.mode {
	case "bar":
		if now.Sub(p.last) < 200*time.Millisecond && settled != s.Expected {
			return
		}
		fmt.Fprint(p.w, "\r\033[K"+progressLine(s, rate))
		p.drawn = true
	case "log":
		if now.Sub(p.last) < logEvery && settled != s.Expected || settled == p.settled {
			return
		}
		p.log.Info("progress", "sweep", s.Name, "done", s.Done, "failed", s.Failed, "total", s.Expected,
			"tasks_per_s", fmt.Sprintf("%.2f", rate), "eta", formatETA(s.ETASeconds))
		p.settled = settled
	default:
		return
	}
	p.last = now
}

// finish ends the live line.
func (p *progress) finish() {
	if p.drawn {
		fmt.Fprintln(p.w)
	}
}

// progressLine is "name [#####-----] 12/24 done · 1 failed · 1.8 tasks/s · ETA 7s".
func progressLine(s *coordinator.SweepStatus, rate float64) string {
	const width = 24
	filled := 0
	if s.Expected > 0 {
		filled = width * (s.Done + s.Failed) / s.Expected
	}
	bar := strings.Repeat("#", filled) + strings.Repeat("-", width-filled)
	return fmt.Sprintf("%s [%s] %d/%d done · %d failed · %.2f tasks/s · ETA %s",
		s.Name, bar, s.Done, s.Expected, s.Failed, rate, formatETA(s.ETASeconds))
}

// formatETA renders seconds as a rounded duration, "?" when unknown.
func formatETA(seconds float64) string {
	if seconds <= 0 {
		return "?"
	}
	d := time.Duration(seconds * float64(time.Second))
	if d < time.Hour {
		return d.Round(time.Second).String()
	}
	return d.Round(time.Minute).String()
}
