package main

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/sgsweep/sgsweep/coordinator"
)

// progress shows a running sweep: live lines on a terminal (a status
// area: the bar, then the running tasks), a log line every logEvery
// otherwise.
type progress struct {
	mode    string // bar, log or none
	area    *statusArea
	log     *slog.Logger
	last    time.Time
	settled int
	// running, if set, returns lines on the running tasks for the bar.
	running func() []string
}

// logEvery is the interval of progress log lines.
const logEvery = 10 * time.Second

// progressMode resolves --progress: auto is bar on a terminal w, else log.
func progressMode(mode string, w io.Writer) (string, error) {
	switch mode {
	case "auto":
		if isTerminal(w) {
			return "bar", nil
		}
		return "log", nil
	case "bar", "log", "none":
		return mode, nil
	}
	return "", fmt.Errorf("--progress: %q is not one of auto, bar, log, none", mode)
}

// newProgress returns a display of mode (resolved): bar draws in area,
// log writes to log.
func newProgress(mode string, area *statusArea, log *slog.Logger) *progress {
	return &progress{mode: mode, area: area, log: log, settled: -1}
}

// update shows the sweep's state; rate is in tasks per second.
func (p *progress) update(s *coordinator.SweepStatus, rate float64) {
	now := time.Now()
	settled := s.Done + s.Stopped + s.Failed
	switch p.mode {
	case "bar":
		if now.Sub(p.last) < 200*time.Millisecond && settled != s.Expected {
			return
		}
		lines := []string{progressLine(s, rate)}
		if p.running != nil {
			lines = append(lines, p.running()...)
		}
		p.area.Set(lines...)
	case "log":
		if now.Sub(p.last) < logEvery && settled != s.Expected || settled == p.settled {
			return
		}
		p.log.Info("progress", "sweep", s.Name, "done", s.Done, "stopped", s.Stopped, "failed", s.Failed, "total", s.Expected,
			"tasks_per_s", fmt.Sprintf("%.2f", rate), "eta", formatETA(s.ETASeconds))
		p.settled = settled
	default:
		return
	}
	p.last = now
}

// finish leaves the last bar on the screen.
func (p *progress) finish() {
	if p.area != nil {
		p.area.Close()
	}
}

// progressLine is "name [#####-----] 12/24 done · 1 failed · 1.8 tasks/s · ETA 7s",
// with "· N stopped" after done when tasks were stopped early.
func progressLine(s *coordinator.SweepStatus, rate float64) string {
	const width = 24
	filled := 0
	if s.Expected > 0 {
		filled = width * (s.Done + s.Stopped + s.Failed) / s.Expected
	}
	bar := strings.Repeat("#", filled) + strings.Repeat("-", width-filled)
	stopped := ""
	if s.Stopped > 0 {
		stopped = fmt.Sprintf(" · %d stopped", s.Stopped)
	}
	return fmt.Sprintf("%s [%s] %d/%d done%s · %d failed · %.2f tasks/s · ETA %s",
		s.Name, bar, s.Done, s.Expected, stopped, s.Failed, rate, formatETA(s.ETASeconds))
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
