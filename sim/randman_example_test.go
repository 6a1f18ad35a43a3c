package sim_test

import (
	"fmt"
	"log"

	"github.com/sgsweep/sgsweep/sim"
)

// Generate the paper's Randman task with fewer samples per class, and look
// at its first training sample: one spike per input unit, all in the first
// half of the 100 steps.
func ExampleGenerateRandman() {
	d := sim.DefaultConfig().Dataset // 10 classes, 20 units, D = 1, α = 1, K = 1000
	d.SamplesPerClass = 100
	ds, err := sim.GenerateRandman(d, 1)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d inputs × %d steps, %d classes\n", ds.Inputs, ds.Steps, ds.Classes)
	fmt.Printf("train %d, val %d, test %d samples\n", ds.Train.Len(), ds.Val.Len(), ds.Test.Len())
	times, units := ds.Train.Events(0)
	fmt.Printf("sample 0: class %d, %d spikes in steps %d…%d\n", ds.Train.Labels[0], len(units), times[0], times[len(times)-1])
	// Output:
	// 20 inputs × 100 steps, 10 classes
	// train 800, val 100, test 100 samples
	// sample 0: class 8, 20 spikes in steps 5…49
}

// Load latency-coded MNIST from a data directory holding mnist/ (here the
// first 1 000 training and 200 test images that the repository carries for
// its tests; `sgsweep data get mnist` downloads the full files); a tenth of
// the training images become the validation split.
func ExampleLoadDataset() {
	cfg := sim.DefaultConfig()
	cfg.Dataset.Name = sim.DatasetMNIST // θ 0.2, τ_eff 20 steps, T 100, val_fraction 0.1
	ds, err := sim.LoadDataset(cfg, "testdata")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d inputs × %d steps, %d classes\n", ds.Inputs, ds.Steps, ds.Classes)
	fmt.Printf("train %d, val %d, test %d samples\n", ds.Train.Len(), ds.Val.Len(), ds.Test.Len())
	// Output:
	// 784 inputs × 100 steps, 10 classes
	// train 900, val 100, test 200 samples
}
