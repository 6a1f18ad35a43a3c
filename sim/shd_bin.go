package sim

import (
	"fmt"
	"math/bits"
	"slices"
)

// shdBinner turns one sample's spikes into events: step n covers the
// spike times [n·Δ, (n+1)·Δ) seconds, Δ = duration/steps, computed as
// ⌊t·steps/duration⌋. A spike at exactly n·Δ falls in step n; spikes at or
// after duration are dropped; several spikes of one channel in one step
// become one event (an input spike has value 1). Negative or NaN times and
// channels outside 0…699 are errors. It reuses its buffers: not safe for
// concurrent use.
type shdBinner struct {
	steps    int
	duration float64 // seconds
	// start[n] is where step n's channels begin in byStep (counting sort).
	start  []int32
	step   []int32 // per spike: its step, or -1 if dropped
	byStep []uint16
	ts, us []uint16
}

// shdWords is the number of 64-bit words of a set of channels.
const shdWords = (shdChannels + 63) / 64

func newSHDBinner(steps int, duration float64) *shdBinner {
	return &shdBinner{steps: steps, duration: duration, start: make([]int32, steps+1)}
}

// bin returns the events of the spikes (times[i] seconds, channel
// units[i]) sorted by step, then channel. The slices are reused by the next
// call. It takes time linear in the spikes and steps: a counting sort by
// step (skipped when the spikes come sorted by time), then a set of
// channels per step, which also merges repeats.
func (b *shdBinner) bin(times []float64, units []int64) (ts, us []uint16, err error) {
	if len(times) != len(units) {
		return nil, nil, fmt.Errorf("%d spike times but %d units", len(times), len(units))
	}
	clear(b.start)
	b.step = slices.Grow(b.step[:0], len(times))[:len(times)]
	scale := float64(b.steps) / b.duration
	kept, sorted, prev := 0, true, int32(0)
	for i, t := range times {
		u := units[i]
		if u < 0 || u >= shdChannels {
			return nil, nil, fmt.Errorf("spike %d: channel %d outside 0…%d", i, u, shdChannels-1)
		}
		if !(t >= 0) {
			return nil, nil, fmt.Errorf("spike %d: time %v s, want ≥ 0", i, t)
		}
		if t >= b.duration {
			b.step[i] = -1
			continue
		}
		// t < duration, yet rounding can give steps for t just below it.
		n := int32(min(int(t*scale), b.steps-1))
		b.step[i] = n
		b.start[n+1]++
		kept++
		sorted = sorted && n >= prev
		prev = n
	}
	b.ts, b.us = b.ts[:0], b.us[:0]
	if sorted {
		// SHD's spikes come sorted by time: collect each step's channels
		// as they come.
		var set [shdWords]uint64
		cur := int32(-1)
		for i, n := range b.step {
			if n < 0 {
				continue
			}
			if n != cur {
				b.flush(cur, &set)
				cur = n
			}
			u := units[i]
			set[u>>6] |= 1 << (u & 63)
		}
		b.flush(cur, &set)
		return b.ts, b.us, nil
	}
	// Otherwise sort the channels by step first (counting sort).
	for n := range b.steps {
		b.start[n+1] += b.start[n]
	}
	b.byStep = slices.Grow(b.byStep[:0], kept)[:kept]
	next := b.start[:b.steps] // advances to the end of each step's run
	for i, n := range b.step {
		if n >= 0 {
			b.byStep[next[n]] = uint16(units[i])
			next[n]++
		}
	}
	// next[n] is now the end of step n's run, which is where step n+1's
	// run starts: runs are byStep[lo:next[n]], lo being the previous end.
	lo := int32(0)
	for n := range int32(b.steps) {
		hi := next[n]
		var set [shdWords]uint64
		for _, u := range b.byStep[lo:hi] {
			set[u>>6] |= 1 << (u & 63)
		}
		b.flush(n, &set)
		lo = hi
	}
	return b.ts, b.us, nil
}

// flush appends one event per channel in set, at step n, and empties set.
func (b *shdBinner) flush(n int32, set *[shdWords]uint64) {
	for w, x := range set {
		for ; x != 0; x &= x - 1 {
			b.ts = append(b.ts, uint16(n))
			b.us = append(b.us, uint16(w*64+bits.TrailingZeros64(x)))
		}
		set[w] = 0
	}
}
