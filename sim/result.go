package sim

// Run statuses. A diverged run is an outcome, not an error.
const (
	StatusOK       = "ok"
	StatusDiverged = "diverged" // the loss became NaN or ±Inf
	StatusStopped  = "stopped"  // Options.Stop ended the run early
)

// Result is what one training run computed. It is a pure function of the
// Config (and ModelVersion, and the epoch a stopped run stopped after): the
// same Config gives the same Result, bit for bit, on the same architecture,
// whatever the thread count. Wall-clock times are therefore kept apart, in
// Timing.
type Result struct {
	// Status is ok, diverged or stopped.
	Status string `json:"status"`
	// Epochs holds one entry per completed epoch, in order.
	Epochs []Epoch `json:"epochs"`
	// BestEpoch is the 1-based epoch with the highest validation accuracy
	// (the first one on ties; the training accuracy stands in when there is
	// no validation set); 0 when no epoch completed.
	BestEpoch int `json:"best_epoch"`
	// BestValAcc is the validation accuracy at BestEpoch, in [0, 1].
	BestValAcc float64 `json:"best_val_acc"`
	// TestAcc is the test accuracy of the weights of BestEpoch, in [0, 1].
	TestAcc float64 `json:"test_acc"`
	// TestAccLast is the test accuracy after the last epoch, in [0, 1].
	TestAccLast float64 `json:"test_acc_last"`
}

// Epoch holds the learning curves' values after one epoch.
type Epoch struct {
	// Epoch is 1-based.
	Epoch int `json:"epoch"`
	// TrainLoss is the mean over the epoch's minibatches of the total loss
	// (cross-entropy plus regularizers), in nats.
	TrainLoss float64 `json:"train_loss"`
	// TrainAcc and ValAcc are accuracies in [0, 1]; TrainAcc is measured
	// during the epoch's training passes.
	TrainAcc float64 `json:"train_acc"`
	ValAcc   float64 `json:"val_acc"`
	// Spikes holds, per hidden layer, the mean spike count per neuron per
	// training sample.
	Spikes []float64 `json:"spikes"`
	// Silent holds, per hidden layer, the fraction of neurons that fired no
	// spike on any training sample of the epoch.
	Silent []float64 `json:"silent"`
}

// Timing is the wall-clock cost of a run; it varies between runs and is
// never part of a Result.
type Timing struct {
	// DataSeconds is the time spent loading or generating the dataset, in s.
	DataSeconds float64 `json:"data_seconds"`
	// EpochSeconds holds the duration of each epoch, in s.
	EpochSeconds []float64 `json:"epoch_seconds"`
}

// metricNames are the names Metrics may have.
var metricNames = []string{"test_acc", "test_acc_last", "best_val_acc", "best_epoch", "epochs",
	"train_loss", "train_acc", "val_acc", "spikes", "silent"}

// Metrics returns the run's final metrics by name: the values sweep results
// are aggregated and queried by. Curve values are not included; see Epochs.
func (r *Result) Metrics() map[string]float64 {
	m := make(map[string]float64, len(metricNames))
	for _, name := range metricNames {
		if x, ok := r.Metric(name); ok {
			m[name] = x
		}
	}
	return m
}

// Metric returns one of Metrics without building the map (a query reads
// a few metrics of each of many results), false if the run has none of
// that name: train_loss, train_acc and val_acc (after the last epoch) need
// an epoch, spikes and silent (means over the layers) a layer.
func (r *Result) Metric(name string) (float64, bool) {
	switch name {
	case "test_acc":
		return r.TestAcc, true
	case "test_acc_last":
		return r.TestAccLast, true
	case "best_val_acc":
		return r.BestValAcc, true
	case "best_epoch":
		return float64(r.BestEpoch), true
	case "epochs":
		return float64(len(r.Epochs)), true
	}
	n := len(r.Epochs)
	if n == 0 {
		return 0, false
	}
	last := &r.Epochs[n-1]
	switch name {
	case "train_loss":
		return last.TrainLoss, true
	case "train_acc":
		return last.TrainAcc, true
	case "val_acc":
		return last.ValAcc, true
	case "spikes", "silent":
		k := len(last.Spikes)
		if k == 0 {
			return 0, false
		}
		values := last.Spikes
		if name == "silent" {
			values = last.Silent[:k]
		}
		var sum float64
		for _, x := range values {
			sum += x
		}
		return sum / float64(k), true
	}
	return 0, false
}
