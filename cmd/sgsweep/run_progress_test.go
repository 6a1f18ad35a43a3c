package main

import (
	"testing"

	"github.com/sgsweep/sgsweep/coordinator"
	"github.com/sgsweep/sgsweep/results/store"
)

// A stopped task is settled: it fills the bar like a done one, and the line
// counts it apart; without stopped tasks the line is as it always was.
func TestProgressLineCountsStopped(t *testing.T) {
	s := &coordinator.SweepStatus{SweepInfo: store.SweepInfo{Name: "fig3", Expected: 8, Done: 2, Stopped: 4, Failed: 2}}
	if got, want := progressLine(s, 1.5), "fig3 [########################] 2/8 done · 4 stopped · 2 failed · 1.50 tasks/s · ETA ?"; got != want {
		t.Errorf("progressLine = %q, want %q", got, want)
	}
	s.Stopped, s.Done = 0, 3
	if got, want := progressLine(s, 1.5), "fig3 [###############---------] 3/8 done · 2 failed · 1.50 tasks/s · ETA ?"; got != want {
		t.Errorf("progressLine = %q, want %q", got, want)
	}
	if got := stoppedNote(0) + "|" + stoppedNote(3); got != "|, 3 stopped early" {
		t.Errorf("stoppedNote = %q", got)
	}
}
