package sim

import (
	"fmt"
	"slices"
	"testing"
)

// BenchmarkBusy is where studies spend their time (issue #16): deep and
// recurrent Randman networks (DefaultConfig but for the layers) with dense
// activity. A trained network of these shapes spikes several times per
// neuron and sample, an initial one hardly at all, so the initial
// feed-forward (and recurrent) gains are raised until the activity is that
// of training (Fig. 5's runs, epochs 1–3): the benchmark reports it as
// spikes/neuron/sample, over all hidden layers. Each iteration is one
// minibatch of 250 samples (a 32nd of an epoch) from the same weights, so
// that the activity does not drift. Run, e.g.,
//
//	go test ./sim -run '^$' -bench 'Busy' -cpu 1 -count 6
func BenchmarkBusy(b *testing.B) {
	for _, v := range []struct {
		name      string
		hidden    []int
		recurrent bool
		gain      float64 // Init.Gain
		recGain   float64 // Init.RecurrentGain
	}{
		{"ff=4x100", []int{100, 100, 100, 100}, false, 24, 1},
		{"rec=1x100", []int{100}, true, 16, 1},
		{"rec=4x100", []int{100, 100, 100, 100}, true, 64, 4},
	} {
		b.Run(v.name, func(b *testing.B) {
			cfg := DefaultConfig()
			cfg.Network.Hidden = v.hidden
			cfg.Network.Recurrent = v.recurrent
			cfg.Init.Gain, cfg.Init.RecurrentGain = v.gain, v.recGain
			cfg.Train.LR = 0.005
			benchMinibatch(b, cfg)
		})
	}
}

// benchMinibatch times trainer.step on the first minibatch of cfg's
// Randman dataset, from the initial weights every time.
func benchMinibatch(b *testing.B, cfg Config) {
	cfg = benchConfig(cfg)
	if cfg.Numerics == NumericsFloat32 {
		benchMinibatchIn[float32](b, cfg)
	} else {
		benchMinibatchIn[float64](b, cfg)
	}
}

func benchMinibatchIn[F float](b *testing.B, cfg Config) {
	ds := benchRandman(b, cfg)
	t := newTrainer[F](&cfg, ds, benchThreads())
	batch := t.order[:cfg.Train.Batch]
	timeMinibatch(b, t, batch)
	reportSpikes(b, t, len(batch)*(b.N+1))
}

// timeMinibatch times t.step on batch, from t's initial weights every
// time (so that the activity does not drift), after one untimed step.
func timeMinibatch[F float](b *testing.B, t *trainer[F], batch []int) {
	p0 := slices.Clone(t.params)
	t.step(batch)
	b.ReportAllocs()
	b.ResetTimer()
	cpu := processCPUTime()
	for b.Loop() {
		copy(t.params, p0)
		t.step(batch)
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/minibatch")
	reportCPU(b, cpu, "cpu-s/minibatch")
}

// reportSpikes reports the hidden activity of t's training steps so far,
// over the given number of samples, as spikes per neuron and sample (all
// hidden layers together).
func reportSpikes[F float](b *testing.B, t *trainer[F], samples int) {
	var spikes float64
	neurons := 0
	for _, c := range t.epochCounts {
		for _, x := range c {
			spikes += x
		}
		neurons += len(c)
	}
	b.ReportMetric(spikes/float64(neurons*samples), "spikes/neuron/sample")
}

// BenchmarkEpochShapes is BenchmarkEpoch for every surrogate shape at
// scale β = 100 (the scale sweep's upper end, where several shapes leave
// the hidden layer silent). Compare a shape with superspike at the same
// activity: the spikes/neuron/sample it reports.
func BenchmarkEpochShapes(b *testing.B) {
	for _, shape := range SurrogateNames() {
		b.Run(shape, func(b *testing.B) {
			cfg := DefaultConfig()
			cfg.Surrogate.Shape = shape
			cfg.Surrogate.Scale = 100
			benchEpoch(b, cfg)
		})
	}
}

// BenchmarkMinibatchShapes is one minibatch of the paper's network
// (DefaultConfig, with the initial gain raised until the activity is that
// of training) from the same initial weights for every surrogate shape,
// at β = 10 and at β = 100: the forward pass and the activity are the
// same for all shapes, so the times compare what each shape costs in the
// backward pass. Compare a shape with superspike at the same β.
func BenchmarkMinibatchShapes(b *testing.B) {
	for _, beta := range []float64{10, 100} {
		for _, shape := range SurrogateNames() {
			b.Run(fmt.Sprintf("beta=%g/%s", beta, shape), func(b *testing.B) {
				cfg := DefaultConfig()
				cfg.Surrogate.Shape = shape
				cfg.Surrogate.Scale = beta
				cfg.Init.Gain = 28 // 2.4 spikes/neuron/sample, as in training
				benchMinibatch(b, cfg)
			})
		}
	}
}
