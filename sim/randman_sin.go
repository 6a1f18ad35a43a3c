package sim

import "math"

// Randman spends nearly all its time on sines: K·M·N·D of them (2·10⁸ for
// the paper's task). fourierSeries evaluates them by table lookup and short
// polynomials, about three times faster than math.Sin, with every rounding
// explicit (float64(·) around each product forbids fused multiply–adds), so
// that the result is the same on every platform.

// fourierSeries returns Σ_k amp[k]·sin(2π(freq[k]·x + phase[k])), summed in
// order of k. freq[k]·x + phase[k] must be below 2⁴² in magnitude.
//
// With p = freq[k]·x + phase[k] (in turns, rounded once), 512·p is split
// exactly into an integer n and u ∈ [−½, ½], and
//
//	sin(2πp) = sin(2πn/512)·cos(2πu/512) + cos(2πn/512)·sin(2πu/512),
//
// the first factors from dataSinTable, the second from their Taylor
// polynomials to u⁴ and u⁵ (remainders below 10⁻¹⁶). The absolute error of
// each sine is below 10⁻¹⁵.
func fourierSeries(freq, phase, amp []float64, x float64) float64 {
	const (
		round = 0x1.8p52 // adding it rounds |v| < 2⁵¹ to an integer
		w     = 2 * math.Pi / 512
		s1    = w
		s3    = -w * w * w / 6
		s5    = w * w * w * w * w / 120
		c2    = -w * w / 2
		c4    = w * w * w * w / 24
	)
	phase = phase[:len(freq)]
	amp = amp[:len(freq)]
	tab := &dataSinTable
	sum := 0.0
	for k, f := range freq {
		p := float64(512 * (float64(f*x) + phase[k])) // exact scaling
		r := p + round
		n := math.Float64bits(r) & 511 // round(p) mod 512
		u := p - (r - round)           // exact
		u2 := float64(u * u)
		sinU := float64(u * (float64(u2*(float64(u2*s5)+s3)) + s1))
		cosU := float64(u2*(float64(u2*c4)+c2)) + 1
		sum += float64(amp[k] * (float64(tab[n]*cosU) + float64(tab[n+128]*sinU)))
	}
	return sum
}

// dataSinTable holds sin(2π·n/512) for n < 640, so that cos(2π·n/512) is at
// n+128.
var dataSinTable = func() (t [640]float64) {
	for n := range t {
		t[n] = dataSinTurns(float64(n) / 512)
	}
	return t
}()

// dataSinTurns returns sin(2π·p), p in turns, for |p| < 2⁵⁰, with an
// absolute error below 10⁻¹⁵. It is slow; fourierSeries uses it only to
// fill its table.
//
// p is reduced exactly to p = q/4 + r with q an integer and |r| ≤ 1/8, so
// sin(2πp) is ±sin(2πr) or ±cos(2πr) by q mod 4; both are Taylor
// polynomials on |2πr| ≤ π/4, truncated after z¹⁵/15! and z¹⁶/16!, whose
// remainders are below 5·10⁻¹⁷.
func dataSinTurns(p float64) float64 {
	q := math.Floor(float64(4*p) + 0.5)
	r := p - float64(q*0.25) // exact (Sterbenz), |r| ≤ 1/8
	z := float64(r * (2 * math.Pi))
	z2 := float64(z * z)

	s := float64(z2*(-1.0/1307674368000)) + 1.0/6227020800 // −1/15!, 1/13!
	s = float64(z2*s) - 1.0/39916800                       // 1/11!
	s = float64(z2*s) + 1.0/362880                         // 1/9!
	s = float64(z2*s) - 1.0/5040                           // 1/7!
	s = float64(z2*s) + 1.0/120                            // 1/5!
	s = float64(z2*s) - 1.0/6                              // 1/3!
	s = float64(z*float64(z2*s)) + z

	c := float64(z2*(1.0/20922789888000)) - 1.0/87178291200 // 1/16!, −1/14!
	c = float64(z2*c) + 1.0/479001600                       // 1/12!
	c = float64(z2*c) - 1.0/3628800                         // 1/10!
	c = float64(z2*c) + 1.0/40320                           // 1/8!
	c = float64(z2*c) - 1.0/720                             // 1/6!
	c = float64(z2*c) + 1.0/24                              // 1/4!
	c = float64(z2*c) - 0.5                                 // 1/2!
	c = float64(z2*c) + 1

	switch int64(q) & 3 {
	case 0:
		return s
	case 1:
		return c
	case 2:
		return -s
	default:
		return -c
	}
}
