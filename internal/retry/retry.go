// Package retry paces the loops of the coordinator and the worker that keep
// going through transient failures (a NATS server restarting, a consumer
// being recreated).
package retry

import (
	"context"
	"log/slog"
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

// Streak counts the failures in a row of a loop that keeps trying. The zero
// value is an empty streak.
type Streak struct{ n int }

// Fail records one more failure: it logs err under msg at Warn level for
// the first failure of the streak and every 20th (so that an outage does
// not flood the log), then pauses 200 ms per failure of the streak, at
// most 5 s, or until ctx is done.
func (s *Streak) Fail(ctx context.Context, log *slog.Logger, msg string, err error) {
	s.n++
	if s.n == 1 || s.n%20 == 0 {
		log.Warn(msg, "err", err)
	}
	Sleep(ctx, s.pause())
}

// Reset ends the streak, after a success.
func (s *Streak) Reset() { s.n = 0 }

// pause is how long Fail waits after the streak's latest failure.
func (s *Streak) pause() time.Duration {
	return min(time.Duration(s.n)*200*time.Millisecond, 5*time.Second)
}
