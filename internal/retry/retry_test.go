package retry

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
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
