package stopping

import "slices"

// values is a multiset of finite numbers, read in ascending order. add
// appends to a pending buffer and ascending merges the buffer in, so that
// k adds between two reads of n values cost O(k log k + m) at the read,
// m ≤ n the values larger than the smallest added one, and a read with
// nothing pending costs O(1). Replaying a stored sweep's results (many
// adds, then reads) thus sorts each set once.
type values struct {
	sorted  []float64 // ascending
	pending []float64 // unordered, not yet in sorted
}

// add puts x in the set.
func (v *values) add(x float64) { v.pending = append(v.pending, x) }

// len returns the number of values in the set.
func (v *values) len() int { return len(v.sorted) + len(v.pending) }

// ascending returns the values in ascending order. The slice is the set's
// own: callers must not modify or keep it.
func (v *values) ascending() []float64 {
	if len(v.pending) == 0 {
		return v.sorted
	}
	slices.Sort(v.pending)
	// Merge from the back into the room appended after sorted: the values
	// below the smallest pending one stay in place.
	i, j := len(v.sorted)-1, len(v.pending)-1
	v.sorted = append(v.sorted, v.pending...)
	for k := len(v.sorted) - 1; j >= 0; k-- {
		if i >= 0 && v.sorted[i] > v.pending[j] {
			v.sorted[k], i = v.sorted[i], i-1
		} else {
			v.sorted[k], j = v.pending[j], j-1
		}
	}
	v.pending = v.pending[:0]
	return v.sorted
}

// quantile returns the num/den quantile (0 ≤ num ≤ den) of the ascending,
// non-empty s, interpolating linearly between the two nearest ranks as
// NumPy's percentile does by default (up to rounding): at position
// p = (len(s)−1)·num/den, computed exactly in integers so that a quantile
// that falls on a rank is that value, it is the mean of s[⌊p⌋] and
// s[⌊p⌋+1] weighted by their nearness to p. quantile(s, 1, 2) is the
// median: the mean of the two middle values when len(s) is even.
func quantile(s []float64, num, den int) float64 {
	pos := (len(s) - 1) * num
	lo, rem := pos/den, pos%den
	if rem == 0 {
		return s[lo]
	}
	a, b := s[lo], s[lo+1]
	if a == b {
		return a
	}
	return (a*float64(den-rem) + b*float64(rem)) / float64(den)
}
