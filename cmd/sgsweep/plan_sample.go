package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/sgsweep/sgsweep/sweep"
)

// samplingJSON is the sampling part of plan --json.
type samplingJSON struct {
	Method string `json:"method"`
	N      int    `json:"n"`
	// Seed is absent for sobol, which ignores it.
	Seed *uint64           `json:"seed,omitempty"`
	Axes []sampledAxisJSON `json:"axes"`
}

type sampledAxisJSON struct {
	Path string            `json:"path"`
	Dist string            `json:"dist"`
	Args []json.RawMessage `json:"args"`
	// Min and Max are the smallest and largest value drawn (absent for
	// choice); Distinct counts the different values drawn.
	Min      json.RawMessage `json:"min,omitempty"`
	Max      json.RawMessage `json:"max,omitempty"`
	Distinct int             `json:"distinct"`
	// Strata is how many of the n equal-probability strata the draws hit.
	Strata int `json:"strata"`
}

// sampledCoverage describes what the draws of each sampled axis cover; nil
// when the spec samples nothing.
func sampledCoverage(spec *sweep.Spec) *samplingJSON {
	smp := spec.Sampling()
	if smp == nil {
		return nil
	}
	out := &samplingJSON{Method: smp.Method, N: smp.N, Axes: []sampledAxisJSON{}}
	if smp.Method != "sobol" {
		seed := smp.Seed
		out.Seed = &seed
	}
	var values [][]json.RawMessage
	for _, ax := range spec.Axes() {
		if ax.Kind == sweep.AxisSample {
			values = ax.Values
		}
	}
	for j, sa := range smp.Axes {
		a := sampledAxisJSON{Path: sa.Path, Dist: sa.Dist, Args: sa.Args, Strata: sa.Strata}
		distinct := map[string]bool{}
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, p := range values {
			v := p[j]
			distinct[string(v)] = true
			var x float64
			if sa.Dist == "choice" || json.Unmarshal(v, &x) != nil {
				continue
			}
			if x < lo {
				lo, a.Min = x, v
			}
			if x > hi {
				hi, a.Max = x, v
			}
		}
		a.Distinct = len(distinct)
		out.Axes = append(out.Axes, a)
	}
	return out
}

// writeSampling prints the sampled axes: each one's distribution, the
// range of its draws and how many of the n strata they hit.
func writeSampling(w io.Writer, c *samplingJSON) {
	how := c.Method
	switch {
	case c.Method == "sobol":
		how += ", unscrambled, no seed"
	case c.Seed != nil:
		how += fmt.Sprintf(", seed %d", *c.Seed)
	}
	fmt.Fprintf(w, "sampled      %d points (%s) over %d axes, crossed with the other axes\n", c.N, how, len(c.Axes))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  sampled axis\tdistribution\tdrawn\tstrata hit")
	for _, a := range c.Axes {
		args := make([]string, len(a.Args))
		for i, v := range a.Args {
			args[i] = sweep.FormatValue(v)
		}
		dist := fmt.Sprintf("%s [%s]", a.Dist, strings.Join(args, ", "))
		drawn := fmt.Sprintf("%d of %d values", a.Distinct, len(a.Args))
		if a.Dist != "choice" {
			drawn = fmt.Sprintf("%s … %s", short(a.Min), short(a.Max))
			if a.Dist == "int" {
				drawn += fmt.Sprintf(" (%d distinct)", a.Distinct)
			}
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%d of %d\n", a.Path, dist, drawn, a.Strata, c.N)
	}
	tw.Flush()
}

// short renders a drawn number to 4 significant digits.
func short(v json.RawMessage) string {
	var x float64
	if json.Unmarshal(v, &x) != nil {
		return sweep.FormatValue(v)
	}
	return strconv.FormatFloat(x, 'g', 4, 64)
}
