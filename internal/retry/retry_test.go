package retry

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math"
	"strings"
	"testing"
	"time"
)

func TestSleep(t *testing.T) {
	if err := Sleep(context.Background(), time.Millisecond); err != nil {
		t.Errorf("Sleep(1ms) = %v, want nil", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep with a cancelled context = %v, want context.Canceled", err)
	}
}

func TestBackoff(t *testing.T) {
	const ms = time.Millisecond
	least := func(time.Duration) time.Duration { return 0 }
	most := func(n time.Duration) time.Duration { return n - 1 }
	doubling := Backoff{Base: 250 * ms, Max: 5 * time.Second}
	jittered := Backoff{Base: 250 * ms, Max: 5 * time.Second, Jitter: 0.25}
	for _, tt := range []struct {
		name string
		b    Backoff
		n    int
		want time.Duration
	}{
		{"doubling, first", doubling, 1, 250 * ms},
		{"doubling, n < 1 counts as 1", doubling, 0, 250 * ms},
		{"doubling, n < 1 counts as 1", doubling, -3, 250 * ms},
		{"doubling, second", doubling, 2, 500 * ms},
		{"doubling, fifth", doubling, 5, 4 * time.Second},
		{"doubling, capped", doubling, 6, 5 * time.Second},
		{"doubling, no overflow", doubling, 64, 5 * time.Second},
		{"doubling, no overflow", doubling, math.MaxInt, 5 * time.Second},
		{"doubling, max at the boundary", Backoff{Base: time.Second, Max: 4 * time.Second}, 3, 4 * time.Second},
		{"doubling, huge max", Backoff{Base: 1, Max: math.MaxInt64}, 63, 1 << 62},
		{"doubling, huge max, capped", Backoff{Base: 1, Max: math.MaxInt64}, 64, math.MaxInt64},
		{"max below base", Backoff{Base: time.Second, Max: 100 * ms}, 1, 100 * ms},
		{"no base", Backoff{Max: time.Second}, 7, 0},
		{"no base, jitter", Backoff{Max: time.Second, Jitter: 1, Rand: most}, 7, 0},
		{"worker redelivery", Backoff{Base: 30 * time.Second, Max: 5 * time.Minute}, 4, 4 * time.Minute},
		{"linear, first", streakBackoff, 1, 200 * ms},
		{"linear, second", streakBackoff, 2, 400 * ms},
		{"linear, 19th", streakBackoff, 19, 3800 * ms},
		{"linear, reaches max", streakBackoff, 25, 5 * time.Second},
		{"linear, capped", streakBackoff, 26, 5 * time.Second},
		{"linear, no overflow", streakBackoff, math.MaxInt, 5 * time.Second},
		{"linear, max not a multiple", Backoff{Base: 200 * ms, Max: 450 * ms, Linear: true}, 3, 450 * ms},
		{"jitter, least", jittered.with(least), 1, 250 * ms},
		{"jitter, most", jittered.with(most), 1, 312500 * time.Microsecond},
		{"jitter, most, fourth", jittered.with(most), 4, 2500 * ms},
		{"jitter on top of the cap", jittered.with(most), 1000, 6250 * ms},
	} {
		if got := tt.b.Delay(tt.n); got != tt.want {
			t.Errorf("%s: Delay(%d) = %v, want %v", tt.name, tt.n, got, tt.want)
		}
	}
}

// with returns b drawing its jitter with r.
func (b Backoff) with(r func(time.Duration) time.Duration) Backoff {
	b.Rand = r
	return b
}

func TestBackoffRandomJitter(t *testing.T) {
	b := Backoff{Base: 250 * time.Millisecond, Max: 5 * time.Second, Jitter: 0.25}
	for _, tt := range []struct {
		n        int
		min, max time.Duration
	}{
		{1, 250 * time.Millisecond, 312500 * time.Microsecond},
		{3, time.Second, 1250 * time.Millisecond},
		{9, 5 * time.Second, 6250 * time.Millisecond},
	} {
		for range 100 {
			if d := b.Delay(tt.n); d < tt.min || d > tt.max {
				t.Errorf("Delay(%d) = %v, want in [%v, %v]", tt.n, d, tt.min, tt.max)
			}
		}
	}
}

func TestBackoffWait(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	b := Backoff{Base: time.Hour, Max: time.Hour}
	if err := b.Wait(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait with a cancelled context = %v, want context.Canceled", err)
	}
	if err := (Backoff{}).Wait(context.Background(), 1); err != nil {
		t.Errorf("Wait(zero Backoff) = %v, want nil", err)
	}
}

func TestStreak(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // no pauses in the test
	var s Streak
	for _, tc := range []struct {
		failures int           // failures in the streak so far
		logged   int           // warnings logged so far
		pause    time.Duration // after the latest failure
	}{
		{1, 1, 200 * time.Millisecond},
		{2, 1, 400 * time.Millisecond},
		{19, 1, 3800 * time.Millisecond},
		{20, 2, 4 * time.Second},
		{25, 2, 5 * time.Second},
		{40, 3, 5 * time.Second},
		{41, 3, 5 * time.Second},
	} {
		for s.n < tc.failures {
			s.Fail(ctx, log, "fetching", errors.New("no responders"))
		}
		if got := strings.Count(buf.String(), "level=WARN msg=fetching err=\"no responders\""); got != tc.logged {
			t.Errorf("after %d failures: %d warnings, want %d\n%s", tc.failures, got, tc.logged, buf.String())
		}
		if got := s.pause(); got != tc.pause {
			t.Errorf("after %d failures: pause %v, want %v", tc.failures, got, tc.pause)
		}
	}
	s.Reset()
	s.Fail(ctx, log, "fetching", errors.New("no responders"))
	if got := strings.Count(buf.String(), "level=WARN"); got != 4 || s.pause() != 200*time.Millisecond {
		t.Errorf("after a reset and a failure: %d warnings, pause %v; want 4 and 200ms", got, s.pause())
	}
}
