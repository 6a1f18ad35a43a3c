// Package buildmetric is the sgsweep_build_info metric that the
// coordinator's and the workers' /metrics share, so that a query can join
// any sgsweep series with the build and model version that produced it.
package buildmetric

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sgsweep/sgsweep/protocol"
	"github.com/sgsweep/sgsweep/sim"
)

// New returns sgsweep_build_info, always 1, labelled with this binary's
// version, revision and Go version (protocol.CurrentBuild) and
// sim.ModelVersion; who names the program in its help ("the coordinator").
func New(who string) prometheus.Collector {
	b := protocol.CurrentBuild()
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "sgsweep", Name: "build_info",
		Help: "Always 1: " + who + "'s build and model version.",
		ConstLabels: prometheus.Labels{"version": b.Version, "revision": b.Revision,
			"go_version": b.GoVersion, "model_version": sim.ModelVersion}}, func() float64 { return 1 })
}
