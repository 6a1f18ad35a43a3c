package sim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The fixtures of testdata/torch/ hold what an independent implementation
// of docs/model.md's network in PyTorch (testdata/torch/model.py: autograd, no
// hand-derived gradient but the surrogate's) computes for small networks,
// in float64 (testdata/torch/*.json) and in float32 (testdata/torch/f32/):
// loss, logits, spike counts, the gradient of every weight matrix, and the
// weights after Adam steps on the same minibatch. Their format is
// documented in testdata/torch/gen.py, which regenerates them:
//
//	cd sim/testdata/torch && /usr/bin/python3 gen.py             # needs Debian's python3-torch
//	cd sim/testdata/torch && /usr/bin/python3 gen.py --float32   # f32/

// torchTol is the agreement required with PyTorch in float64, relative to
// the largest magnitude of the quantity compared (per sample for logits,
// per matrix for gradients and weights). Both sides compute in float64, but
// the order of summation differs (PyTorch sums dense products x @ W, sim
// adds one weight row per spike), so results differ by rounding: about
// 1e-15 observed (go test -v -run TorchFixtures logs the largest error per
// fixture). Rounding cannot flip a spike or the max readout's step: gen.py
// only keeps draws whose every U stays at least 1e-9 from the threshold and
// whose every logit is at least 1e-9 from any other value of its trace (the
// fixture's margin and readout_gap, checked below). Any modelling
// difference shows up as a difference of order one.
const torchTol = 1e-9

// torchTol32 is torchTol for the float32 fixtures of testdata/torch/f32/,
// which PyTorch computed in float32 throughout (weights, forward, autograd,
// Adam) and sim reproduces with Config.Numerics float32. Each side rounds
// to float32 (unit roundoff 6e-8) in its own order, PyTorch's surrogate and
// loss are float32 where sim's are float64 rounded to float32, and errors
// compound over the 25–40 steps forward and back: observed at most 9e-7 on
// logits, 9e-8 on losses, 2.3e-6 on gradients and 2.6e-7 on the weights
// after Adam (go test -v -run TorchFixtures32). 1e-4 leaves a factor 40 for
// other summation orders (another BLAS under PyTorch) and stays below the
// fixtures' margin and readout gap, at least 1e-3 (gen.py --float32), so
// no spike and no max step can flip; a modelling difference is still of
// order one.
const torchTol32 = 1e-4

// torchFixtures lists the fixtures (testdata/torch/<name>.json, and their
// float32 versions testdata/torch/f32/<name>.json) and what sim must do on
// them besides agreeing: shortcuts marks the ones on which the silent-layer
// forward and the quiet-tail backward must actually be taken (see
// workspace.silentFrom, quietTail), so that the check covers them too.
var torchFixtures = []torchCase{
	{"ff1_superspike_max", false},
	{"ff1_sigmoid_mean", false},
	{"ff1_esser_last", false},
	{"ff1_randman_like", true},
	{"ff1_neuron_params", false},
	{"ff2_superspike_max", false},
	{"ff2_asymptotic_diffreset_max", false},
	{"ff2_exponential_diffreset_mean", false},
	{"rec1_propagate_max", false},
	{"rec1_detached_sigmoid_mean", false},
	{"rec1_gaussian_mean", false},
	{"rec2_propagate_diffreset_last", false},
	{"rec2_detached_diffreset_esser_max", false},
}

type torchCase struct {
	name      string
	shortcuts bool
}

// torchFixture is one file of testdata/torch/ (see gen.py).
type torchFixture struct {
	Name    string          `json:"name"`
	About   string          `json:"about"`
	Config  json.RawMessage `json:"config"`
	Inputs  int             `json:"inputs"`
	Classes int             `json:"classes"`
	// Weights and Grads name each matrix as paramBlocks does; rows are
	// presynaptic (x @ W in PyTorch).
	Weights map[string][][]float64 `json:"weights"`
	Samples []struct {
		Label int   `json:"label"`
		Times []int `json:"times"`
		Units []int `json:"units"`
	} `json:"samples"`
	Loss       float64                `json:"loss"`
	Logits     [][]float64            `json:"logits"`
	Counts     [][][]float64          `json:"counts"` // [sample][layer][neuron]
	Grads      map[string][][]float64 `json:"grads"`
	Margin     float64                `json:"margin"`
	ReadoutGap *float64               `json:"readout_gap"`
	Adam       struct {
		Steps   int                    `json:"steps"`
		Losses  []float64              `json:"losses"` // before each step
		Weights map[string][][]float64 `json:"weights"`
	} `json:"adam"`
}

// loadTorchFixture reads a fixture and builds sim's view of it: the Config
// (DefaultConfig with the fixture's fields), the minibatch as the training
// split of a Dataset, and the network.
func loadTorchFixture(path string) (*torchFixture, *Config, *Dataset, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, nil, err
	}
	var f torchFixture
	if err := strictUnmarshal(data, &f); err != nil {
		return nil, nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	cfg := DefaultConfig()
	if err := strictUnmarshal(f.Config, &cfg); err != nil {
		return nil, nil, nil, fmt.Errorf("%s: config: %w", path, err)
	}
	if err := cfg.Validate(); err != nil {
		return nil, nil, nil, fmt.Errorf("%s: config: %w", path, err)
	}
	ds := &Dataset{Inputs: f.Inputs, Steps: cfg.Dataset.Steps, Classes: f.Classes}
	s := &ds.Train
	s.Offsets = []int32{0}
	for k, smp := range f.Samples {
		if len(smp.Times) != len(smp.Units) {
			return nil, nil, nil, fmt.Errorf("%s: samples[%d]: %d times, %d units", path, k, len(smp.Times), len(smp.Units))
		}
		for e := range smp.Times {
			s.Times = append(s.Times, uint16(smp.Times[e]))
			s.Units = append(s.Units, uint16(smp.Units[e]))
		}
		s.Offsets = append(s.Offsets, int32(len(s.Times)))
		s.Labels = append(s.Labels, uint8(smp.Label))
	}
	if err := ds.Validate(); err != nil {
		return nil, nil, nil, fmt.Errorf("%s: samples: %w", path, err)
	}
	return &f, &cfg, ds, nil
}

func strictUnmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// flatParams maps the named matrices of a fixture to net's flat parameter
// layout (the inverse of paramBlocks); each must have its matrix's shape,
// presynaptic rows by postsynaptic columns. field names the fixture's field
// in errors.
func flatParams(net *network, field string, m map[string][][]float64) ([]float64, error) {
	p := make([]float64, net.nParams)
	blocks := paramBlocks(net, p)
	for name := range m {
		if _, ok := blocks[name]; !ok {
			return nil, fmt.Errorf("%s.%s: no such matrix in the network", field, name)
		}
	}
	last := len(net.hidden) - 1
	shapes := map[string][2]int{"W_out": {net.hidden[last], net.outputs}}
	for l, h := range net.hidden {
		shapes[fmtName("W", l)] = [2]int{net.layerInputs[l], h}
		shapes[fmtName("V", l)] = [2]int{h, h}
	}
	for name, dst := range blocks {
		rows, ok := m[name]
		if !ok {
			return nil, fmt.Errorf("%s.%s: missing", field, name)
		}
		shape := shapes[name]
		if len(rows) != shape[0] {
			return nil, fmt.Errorf("%s.%s: %d rows, want %d", field, name, len(rows), shape[0])
		}
		for r, row := range rows {
			if len(row) != shape[1] {
				return nil, fmt.Errorf("%s.%s[%d]: %d columns, want %d", field, name, r, len(row), shape[1])
			}
			copy(dst[r*shape[1]:], row)
		}
	}
	return p, nil
}

// scaledErr returns max_i |got_i − want_i| / max_i |want_i| (the absolute
// error when want is 0).
func scaledErr(got, want []float64) float64 {
	var d, scale float64
	for i := range want {
		d = max(d, math.Abs(got[i]-want[i]))
		scale = max(scale, math.Abs(want[i]))
	}
	if scale == 0 {
		return d
	}
	return d / scale
}

// TestTorchFixtures runs every fixture of testdata/torch/ through sim in
// float64 and requires PyTorch's numbers within torchTol.
func TestTorchFixtures(t *testing.T) {
	testTorchFixtures[float64](t, filepath.Join("testdata", "torch"), torchFixtures, torchTol)
}

// TestTorchFixtures32 runs every fixture of testdata/torch/f32/ through sim
// in float32 and requires PyTorch's float32 numbers within torchTol32.
func TestTorchFixtures32(t *testing.T) {
	testTorchFixtures[float32](t, filepath.Join("testdata", "torch", "f32"), torchFixtures, torchTol32)
}

// testTorchFixtures runs the fixtures cases of dir through sim in numerics
// F, which must be their config's, and requires PyTorch's numbers within
// tol (spike counts exactly): once sample by sample through forward, loss
// and backward, and once as a minibatch through the trainer (grouped
// backward, as in training; the fixtures, of at most shardSize samples,
// make one shard, so one thread), followed by the fixture's Adam steps.
func testTorchFixtures[F float](t *testing.T, dir string, cases []torchCase, tol float64) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		if !slices.ContainsFunc(cases, func(c torchCase) bool { return c.name == name }) {
			t.Errorf("%s is not listed in the test's fixtures", file)
		}
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			f, cfg, ds, err := loadTorchFixture(filepath.Join(dir, tt.name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			if is32[F]() != (cfg.Numerics == NumericsFloat32) {
				t.Fatalf("config numerics %q, but the test runs sim in %T", cfg.Numerics, F(0))
			}
			if f.Margin < tol {
				t.Fatalf("margin %g: a potential too close to the threshold for tolerance %g", f.Margin, tol)
			}
			if f.ReadoutGap != nil && *f.ReadoutGap < tol {
				t.Fatalf("readout gap %g: a logit too close to another value of its trace for tolerance %g", *f.ReadoutGap, tol)
			}
			net := newNetwork(cfg, ds.Inputs, ds.Classes, ds.Steps)
			w, err := flatParams(net, "weights", f.Weights)
			if err != nil {
				t.Fatal(err)
			}
			p, err := exactly[F](w)
			if err != nil {
				t.Fatalf("weights: %v", err)
			}
			if _, err := flatParams(net, "grads", f.Grads); err != nil {
				t.Fatal(err)
			}
			shortcuts := checkTorchSamples(t, f, net, p, &ds.Train, tol)
			if tt.shortcuts && shortcuts == 0 {
				t.Errorf("no sample took the silent-layer forward and the quiet-tail backward: the fixture does not cover them")
			}
			checkTorchTrainer(t, f, cfg, ds, p, tol)
		})
	}
}

// exactly returns s in F, or an error if some value of s is not an F (the
// weights of a float32 fixture are float32 values, as PyTorch drew them, so
// that both sides start from the same network).
func exactly[F float](s []float64) ([]F, error) {
	p := toF[F](s)
	for i, x := range s {
		if float64(p[i]) != x {
			return nil, fmt.Errorf("%v is not a %T", x, p[i])
		}
	}
	return p, nil
}

// checkTorchSamples compares forward, loss and backward run sample by
// sample with the fixture, within tol. It returns the number of samples on
// which both shortcuts (silent layer, quiet tail) were taken.
func checkTorchSamples[F float](t *testing.T, f *torchFixture, net *network, p []F, split *Split, tol float64) (shortcuts int) {
	t.Helper()
	ws := newWorkspace[F](net)
	grad := make([]F, len(p))
	scale := 1 / float64(split.Len())
	var loss, logitErr float64
	for k := range split.Len() {
		times, units := split.Events(k)
		ws.forward(p, times, units, true)
		logitErr = max(logitErr, scaledErr(as64s(ws.logits), f.Logits[k]))
		for l := range ws.layers {
			if count := as64s(ws.layers[l].count); !slices.Equal(count, f.Counts[k][l]) {
				t.Errorf("sample %d, layer %d: spike counts %v, PyTorch %v", k, l+1, count, f.Counts[k][l])
			}
		}
		loss += ws.loss(int(split.Labels[k]), scale)
		if ws.silentFrom < net.steps && ws.quietTail() < net.steps {
			shortcuts++
		}
		ws.backward(p, grad)
	}
	loss *= scale
	if logitErr > tol {
		t.Errorf("logits differ from PyTorch's by %.3g of their magnitude", logitErr)
	}
	if e := math.Abs(loss-f.Loss) / math.Abs(f.Loss); e > tol {
		t.Errorf("loss %v, PyTorch %v (relative error %.3g)", loss, f.Loss, e)
	}
	gradErr := checkBlocks(t, "gradient", paramBlocks(net, as64s(grad)), f.Grads, tol)
	t.Logf("sample by sample: logits %.2g, loss %.2g, gradients %.2g (error relative to magnitude)",
		logitErr, math.Abs(loss-f.Loss)/math.Abs(f.Loss), gradErr)
	return shortcuts
}

// checkTorchTrainer takes the fixture's Adam steps with the trainer and
// compares, within tol, the loss and the gradient of the first step, the
// loss before each step and the weights after the last.
func checkTorchTrainer[F float](t *testing.T, f *torchFixture, cfg *Config, ds *Dataset, p []F, tol float64) {
	t.Helper()
	tr := newTrainer[F](cfg, ds, 2)
	copy(tr.params, p)
	var lossErr float64
	for step := range f.Adam.Steps {
		loss, _ := tr.step(tr.order)
		if step == 0 {
			gradErr := checkBlocks(t, "trainer gradient", paramBlocks(tr.net, as64s(tr.grad)), f.Grads, tol)
			t.Logf("trainer: gradient %.2g", gradErr)
		}
		e := math.Abs(loss-f.Adam.Losses[step]) / math.Abs(f.Adam.Losses[step])
		if e > tol {
			t.Errorf("trainer: loss before Adam step %d is %v, PyTorch %v (relative error %.3g)", step+1, loss, f.Adam.Losses[step], e)
		}
		lossErr = max(lossErr, e)
	}
	weightErr := checkBlocks(t, fmt.Sprintf("weights after %d Adam steps", f.Adam.Steps), paramBlocks(tr.net, as64s(tr.params)), f.Adam.Weights, tol)
	t.Logf("trainer: losses %.2g, weights after Adam %.2g", lossErr, weightErr)
}

// checkBlocks compares each named matrix of got (views in sim's layout) with
// the fixture's, within tol, and returns the largest scaled error.
func checkBlocks(t *testing.T, what string, got map[string][]float64, want map[string][][]float64, tol float64) float64 {
	t.Helper()
	var worst float64
	for name, g := range got {
		w := slices.Concat(want[name]...)
		if len(w) != len(g) {
			t.Errorf("%s %s: %d values, PyTorch %d", what, name, len(g), len(w))
			continue
		}
		e := scaledErr(g, w)
		if e > tol {
			t.Errorf("%s %s differs from PyTorch's by %.3g of its magnitude\nsim     %v\nPyTorch %v", what, name, e, g, w)
		}
		worst = max(worst, e)
	}
	return worst
}

// TestTorchFixtureMapping: flatParams puts each named matrix in its place
// in the flat layout and names the field of a fixture that does not fit.
func TestTorchFixtureMapping(t *testing.T) {
	cfg := tinyConfig(3)
	cfg.Network.Recurrent = true
	net := newNetwork(&cfg, 2, 2, cfg.Dataset.Steps)
	good := func() map[string][][]float64 {
		return map[string][][]float64{
			"W_1":   {{1, 2, 3}, {4, 5, 6}},
			"V_1":   {{7, 8, 9}, {10, 11, 12}, {13, 14, 15}},
			"W_out": {{16, 17}, {18, 19}, {20, 21}},
		}
	}
	p, err := flatParams(net, "weights", good())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		block string
		want  []float64
	}{
		{"W_1", []float64{1, 2, 3, 4, 5, 6}},
		{"V_1", []float64{7, 8, 9, 10, 11, 12, 13, 14, 15}},
		{"W_out", []float64{16, 17, 18, 19, 20, 21}},
	} {
		if got := paramBlocks(net, p)[c.block]; !slices.Equal(got, c.want) {
			t.Errorf("%s = %v, want %v", c.block, got, c.want)
		}
	}
	for _, tt := range []struct {
		name   string
		mutate func(m map[string][][]float64)
		want   string
	}{
		{"missing", func(m map[string][][]float64) { delete(m, "V_1") }, "weights.V_1: missing"},
		{"unknown", func(m map[string][][]float64) { m["V_2"] = m["V_1"] }, "weights.V_2: no such matrix"},
		{"rows", func(m map[string][][]float64) { m["W_1"] = m["W_1"][:1] }, "weights.W_1: 1 rows, want 2"},
		{"columns", func(m map[string][][]float64) { m["W_out"][1] = []float64{1, 2, 3} }, "weights.W_out[1]: 3 columns, want 2"},
	} {
		m := good()
		tt.mutate(m)
		if _, err := flatParams(net, "weights", m); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one containing %q", tt.name, err, tt.want)
		}
	}
}
