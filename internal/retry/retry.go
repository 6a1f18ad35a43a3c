// Package retry paces the loops of the coordinator, the worker and the
// command line that keep going through transient failures (a NATS server
// restarting, a consumer being recreated, a task failing for a reason of
// its environment). Every back-off policy of the programs is a Backoff.
package retry

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"time"
)

// Sleep waits d or until ctx is done; then it returns ctx.Err().
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Backoff is a back-off policy: the delay before the retry that follows
// failed attempt n (1-based) is Base·2^(n−1), or Base·n if Linear, at most
// Max, plus a random jitter of up to Jitter × that delay. The zero Jitter
// makes the policy deterministic.
type Backoff struct {
	// Base is the delay after the first failure. A Base ≤ 0 gives no delay.
	Base time.Duration
	// Max caps the delay before jitter; it should be ≥ Base (if it is not,
	// every delay is Max).
	Max time.Duration
	// Linear makes the delay grow by Base per attempt instead of doubling.
	Linear bool
	// Jitter, if positive, adds a uniformly random extra delay in
	// [0, Jitter×d] to a delay d, so that many clients that failed
	// together do not retry in step (0.25: up to 25 % more).
	Jitter float64
	// Rand, if set, draws the jitter: it returns a duration in [0, n).
	// Tests set it to pin the jitter; nil uses math/rand/v2.
	Rand func(n time.Duration) time.Duration
}

// Delay is the pause after failed attempt n (1-based; n < 1 counts as 1).
func (b Backoff) Delay(n int) time.Duration {
	d := b.delay(n)
	if b.Jitter > 0 && d > 0 {
		draw := b.Rand
		if draw == nil {
			draw = rand.N[time.Duration]
		}
		d += draw(time.Duration(float64(d)*b.Jitter) + 1)
	}
	return d
}

// Wait pauses for Delay(n) or until ctx is done; then it returns ctx.Err().
func (b Backoff) Wait(ctx context.Context, n int) error {
	return Sleep(ctx, b.Delay(n))
}

// delay is Delay without the jitter. It does not overflow, however large n.
func (b Backoff) delay(n int) time.Duration {
	if b.Base <= 0 {
		return 0
	}
	steps := max(n-1, 0) // growth steps after the first delay
	if b.Linear {
		if steps >= int(b.Max/b.Base) {
			return b.Max
		}
		return b.Base * time.Duration(steps+1)
	}
	if steps >= 63 || b.Base > b.Max>>steps {
		return b.Max
	}
	return b.Base << steps
}

// Streak counts the failures in a row of a loop that keeps trying. The zero
// value is an empty streak.
type Streak struct{ n int }

// streakBackoff is the pause of a Streak: 200 ms per failure, at most 5 s.
var streakBackoff = Backoff{Base: 200 * time.Millisecond, Max: 5 * time.Second, Linear: true}

// Fail records one more failure: it logs err under msg at Warn level for
// the first failure of the streak and every 20th (so that an outage does
// not flood the log), then pauses 200 ms per failure of the streak, at
// most 5 s, or until ctx is done.
func (s *Streak) Fail(ctx context.Context, log *slog.Logger, msg string, err error) {
	s.n++
	if s.n == 1 || s.n%20 == 0 {
		log.Warn(msg, "err", err)
	}
	streakBackoff.Wait(ctx, s.n)
}

// Reset ends the streak, after a success.
func (s *Streak) Reset() { s.n = 0 }

// pause is how long Fail waits after the streak's latest failure.
func (s *Streak) pause() time.Duration { return streakBackoff.Delay(s.n) }
