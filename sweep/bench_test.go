package sweep

import (
	"os"
	"testing"

	"github.com/sgsweep/sgsweep/sim"
)

// bigSpec expands to 100 000 tasks (the default max_tasks).
const bigSpec = `name: big
grid:
  surrogate.shape: [superspike, sigmoid, esser, atan]
  surrogate.scale: {logspace: [-1, 3, 25]}
  train.lr: {logspace: [-3, -1, 10]}
  network.hidden: [[50], [100], [200], [100, 100], [200, 200]]
replicates: {seed: 20}
`

func benchmarkSpec(b *testing.B, data []byte, wantTasks int) {
	b.Run("Parse", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Parse("bench.yaml", data); err != nil {
				b.Fatal(err)
			}
		}
	})
	s, err := Parse("bench.yaml", data)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("Expand", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			tasks, err := s.Expand()
			if err != nil || len(tasks) != wantTasks {
				b.Fatalf("Expand: %d tasks, %v; want %d", len(tasks), err, wantTasks)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*wantTasks), "ns/task")
	})
}

// BenchmarkFig3 parses and expands examples/fig3-shape-scale.yaml.
func BenchmarkFig3(b *testing.B) {
	data, err := os.ReadFile("../examples/fig3-shape-scale.yaml")
	if err != nil {
		b.Fatal(err)
	}
	benchmarkSpec(b, data, 1290)
}

// BenchmarkMaxTasks parses and expands a spec of 100 000 tasks.
func BenchmarkMaxTasks(b *testing.B) {
	benchmarkSpec(b, []byte(bigSpec), 100_000)
}

// BenchmarkCanonicalConfig canonicalizes one resolved config and hashes it
// into a task ID: the per-task cost of identity.
func BenchmarkCanonicalConfig(b *testing.B) {
	cfg := sim.DefaultConfig()
	b.ReportAllocs()
	for b.Loop() {
		params, err := Canonical(cfg)
		if err != nil {
			b.Fatal(err)
		}
		if TaskID(params) == "" {
			b.Fatal("no ID")
		}
	}
}
