package sim

import (
	"slices"
	"testing"
)

func TestLatencyStep(t *testing.T) {
	// Expected steps computed by hand: ⌊τ·ln(x/(x − θ))⌋; for a byte b and
	// θ = 0.2 = 51/255, x/(x − θ) = b/(b − 51).
	tests := []struct {
		name           string
		b              int // pixel byte, x = b/255
		threshold, tau float64
		steps          int
		wantStep       int
		wantSpike      bool
	}{
		{"black", 0, 0.2, 20, 100, 0, false},
		{"just below θ", 50, 0.2, 20, 100, 0, false},
		{"x = θ never spikes", 51, 0.2, 20, 100, 0, false},
		{"just above θ: 20·ln 52 = 79.02", 52, 0.2, 20, 100, 79, true},
		{"just above θ, past T = 79", 52, 0.2, 20, 79, 0, false},
		{"just above θ, T = 80", 52, 0.2, 20, 80, 79, true},
		{"20·ln(56/5) = 48.32", 56, 0.2, 20, 100, 48, true},
		{"20·ln(64/13) = 31.88", 64, 0.2, 20, 100, 31, true},
		{"x = 0.4: 20·ln 2 = 13.86", 102, 0.2, 20, 100, 13, true},
		{"x = 0.6: 20·ln 1.5 = 8.11", 153, 0.2, 20, 100, 8, true},
		{"x = 1: 20·ln 1.25 = 4.46", 255, 0.2, 20, 100, 4, true},
		{"x = 1, θ = 0: ln 1 = 0", 255, 0, 20, 100, 0, true},
		{"x = 1/255, θ = 0: step 0", 1, 0, 20, 100, 0, true},
		{"x = 1, θ = 0.5, τ = 1: ln 2 = 0.69", 255, 0.5, 1, 100, 0, true},
		{"x = 0.6, θ = 0.5, τ = 10: 10·ln 6 = 17.92", 153, 0.5, 10, 100, 17, true},
		{"one step", 255, 0.2, 20, 4, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			step, spike := latencyStep(float64(tt.b)/255, tt.threshold, tt.tau, tt.steps)
			if step != tt.wantStep || spike != tt.wantSpike {
				t.Errorf("latencyStep(%d/255, θ %v, τ %v, T %d) = %d, %v; want %d, %v", tt.b, tt.threshold, tt.tau, tt.steps, step, spike, tt.wantStep, tt.wantSpike)
			}
			want := int32(-1)
			if tt.wantSpike {
				want = int32(tt.wantStep)
			}
			if got := newLatencyTable(tt.threshold, tt.tau, tt.steps)[tt.b]; got != want {
				t.Errorf("latency table[%d] = %d, want %d", tt.b, got, want)
			}
		})
	}
}

func TestLatencyTableMonotone(t *testing.T) {
	// Brighter pixels never fire later.
	tab := newLatencyTable(0.2, 20, 100)
	last := int32(1 << 30)
	for b := 52; b < 256; b++ {
		if tab[b] < 0 || tab[b] > last {
			t.Fatalf("table[%d] = %d after table[%d] = %d: want a spike, no later than the dimmer pixel's", b, tab[b], b-1, last)
		}
		last = tab[b]
	}
}

func TestEncodeLatency(t *testing.T) {
	// Two 2×3 images; the table gives the spike step of each byte.
	pixels := []byte{
		255, 0, 102, // image 0: steps 4, –, 13
		153, 255, 52, //          8, 4, 79
		52, 52, 0, // image 1: 79, 79, –
		0, 0, 0,
	}
	labels := []byte{7, 3}
	tab := newLatencyTable(0.2, 20, 100)
	s, err := encodeLatency(pixels, 6, labels, []int{1, 0, 1}, tab, 100)
	if err != nil {
		t.Fatal(err)
	}
	ds := &Dataset{Inputs: 6, Steps: 100, Classes: 10, Train: s}
	mustValidate(t, ds)
	type event struct{ t, u uint16 }
	want := [][]event{
		{{79, 0}, {79, 1}},
		{{4, 0}, {4, 4}, {8, 3}, {13, 2}, {79, 5}},
		{{79, 0}, {79, 1}},
	}
	if !slices.Equal(s.Labels, []uint8{3, 7, 3}) {
		t.Errorf("labels = %v, want [3 7 3]", s.Labels)
	}
	for k, w := range want {
		times, units := s.Events(k)
		var got []event
		for e := range times {
			got = append(got, event{times[e], units[e]})
		}
		if !slices.Equal(got, w) {
			t.Errorf("sample %d events (step, unit) = %v, want %v", k, got, w)
		}
	}
}

func TestSpikingPixels(t *testing.T) {
	src := dataStream(1, 99, 2)
	for _, theta := range []float64{0.2, 0} {
		tab := newLatencyTable(theta, 20, 100)
		for n := range 41 {
			image := make([]byte, n)
			for i := range image {
				if dataIntN(src, 3) == 0 { // mostly dark, like MNIST
					image[i] = byte(dataIntN(src, 256))
				}
			}
			var want []uint16
			for u, b := range image {
				if tab[b] >= 0 {
					want = append(want, uint16(u))
				}
			}
			if got := spikingPixels(image, tab, nil); !slices.Equal(got, want) {
				t.Errorf("θ %v, image %v: spiking pixels %v, want %v", theta, image, got, want)
			}
		}
	}
}
