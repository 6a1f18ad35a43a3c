package sim

import (
	"encoding/binary"
	"fmt"
	"math"
)

// The one-spike latency code of the MNIST-like datasets (after Zenke's
// SpyTorch tutorials): a pixel of intensity x ∈ [0, 1] is the constant input
// current of a leaky integrator that fires once, when it first crosses θ,
//
//	t(x) = τ_eff · ln(x / (x − θ))   for x > θ,
//
// at time step ⌊t(x)⌋ if that is below the number of steps T; pixels with
// x ≤ θ, and those whose step would be T or later, never fire. Brighter
// pixels fire earlier: x = 1 fires at ⌊τ_eff·ln(1/(1 − θ))⌋ (step 4 for
// θ = 0.2, τ_eff = 20), pixels just above θ last.

// latencyStep returns the step at which a pixel of intensity x fires, and
// whether it fires at all within steps. threshold is θ, tauEff is τ_eff in
// time steps.
func latencyStep(x, threshold, tauEff float64, steps int) (int, bool) {
	if !(x > threshold) {
		return 0, false
	}
	t := math.Floor(tauEff * math.Log(x/(x-threshold)))
	if !(t < float64(steps)) {
		return 0, false
	}
	return int(t), true
}

// latencyTable maps each pixel byte b (x = b/255) to its spike step, or −1
// if it never fires.
type latencyTable [256]int32

func newLatencyTable(threshold, tauEff float64, steps int) *latencyTable {
	var tab latencyTable
	for b := range tab {
		tab[b] = -1
		if t, ok := latencyStep(float64(b)/255, threshold, tauEff, steps); ok {
			tab[b] = int32(t)
		}
	}
	return &tab
}

// encodeLatency latency-codes the images idx[0], idx[1], … of pixels
// (pixelsPer bytes per image, row-major) with tab into a new Split, labelled
// from labels.
func encodeLatency(pixels []byte, pixelsPer int, labels []byte, idx []int, tab *latencyTable, steps int) (Split, error) {
	if pixelsPer > math.MaxUint16+1 {
		return Split{}, fmt.Errorf("%d pixels per image, more than the %d input units an event can name", pixelsPer, math.MaxUint16+1)
	}
	hits := make([]uint16, 0, pixelsPer) // the spiking pixels of one image
	// Room for the events, estimated from the first 1000 images.
	sampled, events := min(len(idx), 1000), 0
	for _, k := range idx[:sampled] {
		events += len(spikingPixels(pixels[k*pixelsPer:(k+1)*pixelsPer], tab, hits[:0]))
	}
	if sampled > 0 {
		events = int(min(float64(events)/float64(sampled)*1.05*float64(len(idx)), math.MaxInt32))
	}
	s := newSplit(len(idx), events)
	// A counting sort by step keeps units ascending within each step.
	start := make([]int, steps+1)
	times := make([]uint16, pixelsPer)
	units := make([]uint16, pixelsPer)
	for _, k := range idx {
		image := pixels[k*pixelsPer : (k+1)*pixelsPer]
		hits = spikingPixels(image, tab, hits[:0])
		clear(start)
		for _, u := range hits {
			start[tab[image[u]]+1]++
		}
		for t := range steps {
			start[t+1] += start[t]
		}
		for _, u := range hits {
			t := tab[image[u]]
			times[start[t]], units[start[t]] = uint16(t), u
			start[t]++
		}
		if err := s.appendSample(times[:len(hits)], units[:len(hits)], labels[k]); err != nil {
			return Split{}, err
		}
	}
	return s, nil
}

// spikingPixels appends to dst the indices of the pixels of image that
// spike, in increasing order. Dark pixels (byte 0) never spike, and most of
// an MNIST image is dark, so it skips zero bytes eight at a time.
func spikingPixels(image []byte, tab *latencyTable, dst []uint16) []uint16 {
	u := 0
	if tab[0] < 0 {
		for ; u+8 <= len(image); u += 8 {
			if binary.LittleEndian.Uint64(image[u:]) == 0 {
				continue
			}
			for i, b := range image[u : u+8] {
				if tab[b] >= 0 {
					dst = append(dst, uint16(u+i))
				}
			}
		}
	}
	for ; u < len(image); u++ {
		if tab[image[u]] >= 0 {
			dst = append(dst, uint16(u))
		}
	}
	return dst
}
