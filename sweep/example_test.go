package sweep_test

import (
	"fmt"
	"log"

	"github.com/sgsweep/sgsweep/sweep"
)

func ExampleSpec_Expand() {
	spec, err := sweep.Parse("example.yaml", []byte(`
name: example
base:
  train: {epochs: 10}
grid:
  surrogate.shape: [superspike, heaviside]
  surrogate.scale: [1, 10]
exclude:
  # the true gradient does not depend on the scale: run it once
  - {surrogate.shape: heaviside, surrogate.scale: 10}
replicates: {seed: 2}
`))
	if err != nil {
		log.Fatal(err)
	}
	tasks, err := spec.Expand()
	if err != nil {
		log.Fatal(err)
	}
	for _, t := range tasks {
		fmt.Println(t.Ordinal, t.Point, t.Config.Train.Epochs)
	}
	// Output:
	// 0 [seed=1 surrogate.shape=superspike surrogate.scale=1] 10
	// 1 [seed=1 surrogate.shape=superspike surrogate.scale=10] 10
	// 2 [seed=1 surrogate.shape=heaviside surrogate.scale=1] 10
	// 3 [seed=2 surrogate.shape=superspike surrogate.scale=1] 10
	// 4 [seed=2 surrogate.shape=superspike surrogate.scale=10] 10
	// 5 [seed=2 surrogate.shape=heaviside surrogate.scale=1] 10
}

func ExampleParse_error() {
	_, err := sweep.Parse("fig3.yaml", []byte(`name: fig3
grid:
  surrogate.shape: [superspike, sigmoid]
  surrogate.scale: [1, -1]
`))
	fmt.Println(err)
	// Output:
	// fig3.yaml:4: grid.surrogate.scale: must be ≥ 0, got -1
}
