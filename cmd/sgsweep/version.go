package main

import (
	"github.com/sgsweep/sgsweep/sim"
	"github.com/sgsweep/sgsweep/sweep"
)

// buildVersion is what --version prints: the binary and the model it computes.
func buildVersion() string {
	return sweep.CurrentBuild().String() + ", model " + sim.ModelVersion
}
