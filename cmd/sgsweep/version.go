package main

import (
	"github.com/sgsweep/sgsweep/protocol"
	"github.com/sgsweep/sgsweep/sim"
)

// buildVersion is what --version prints: the binary and the model it computes.
func buildVersion() string {
	return protocol.CurrentBuild().String() + ", model " + sim.ModelVersion
}
