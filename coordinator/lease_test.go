package coordinator_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sgsweep/sgsweep/coordinator"
	"github.com/sgsweep/sgsweep/coordinator/coordtest"
)

// One lease holder at a time: a second is refused and told who holds it;
// the same host and data dir take a stale lease over at once; an unrenewed
// lease expires and a successor takes it, after which the old holder's
// Keep reports the loss; a released lease is free at once.
func TestLease(t *testing.T) {
	srv := coordtest.StartServer(t, "", 0, "")
	js, err := jetstream.New(coordtest.Connect(t, srv.URL, ""))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const ttl = time.Second
	a := coordinator.LeaseHolder{Host: "h1", DataDir: "/data/a", PID: 1, Since: time.Now()}
	b := coordinator.LeaseHolder{Host: "h2", DataDir: "/data/b", PID: 2, Since: time.Now()}

	la, err := coordinator.AcquireLease(ctx, js, a, ttl, 1, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	_, err = coordinator.AcquireLease(ctx, js, b, ttl, 1, slog.New(slog.DiscardHandler))
	var held *coordinator.LeaseHeldError
	if !errors.As(err, &held) || !errors.Is(err, coordinator.ErrLeaseHeld) || held.Holder.DataDir != "/data/a" ||
		!strings.Contains(err.Error(), "host h1, data dir /data/a") {
		t.Fatalf("second holder: %v", err)
	}
	// Renewed, the lease outlives its TTL.
	keepCtx, stopKeep := context.WithCancel(ctx)
	kept := make(chan error, 1)
	go func() { kept <- la.Keep(keepCtx, coordtest.Logger(t)) }()
	time.Sleep(2 * ttl)
	if _, err := coordinator.AcquireLease(ctx, js, b, ttl, 1, slog.New(slog.DiscardHandler)); !errors.Is(err, coordinator.ErrLeaseHeld) {
		t.Fatalf("second holder while the lease is renewed: %v", err)
	}
	stopKeep()
	if err := <-kept; err != nil {
		t.Fatal(err)
	}

	// A restart of the same coordinator takes its own lease over.
	a.PID = 3
	la, err = coordinator.AcquireLease(ctx, js, a, ttl, 1, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("same host and data dir: %v", err)
	}
	// Unrenewed, it expires; the successor takes it and the old holder
	// learns it lost it.
	var lb *coordinator.Lease
	coordtest.WaitFor(t, 5*time.Second, "the lease to expire", func() bool {
		lb, err = coordinator.AcquireLease(ctx, js, b, ttl, 1, slog.New(slog.DiscardHandler))
		return err == nil
	})
	keepCtx, stopKeep = context.WithCancel(ctx)
	defer stopKeep()
	if err := la.Keep(keepCtx, coordtest.Logger(t)); !errors.Is(err, coordinator.ErrLeaseLost) || !strings.Contains(err.Error(), "/data/b") {
		t.Errorf("old holder's Keep: %v", err)
	}
	if err := lb.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := coordinator.AcquireLease(ctx, js, a, ttl, 1, slog.New(slog.DiscardHandler)); err != nil {
		t.Errorf("after a release: %v", err)
	}
}
