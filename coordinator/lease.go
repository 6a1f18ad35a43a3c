package coordinator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// One coordinator per deployment: a coordinator takes the lease before it
// touches the streams, and renews it while it runs. Two coordinators on one
// NATS deployment would share the result stream and split the results
// between their stores.
const (
	// LeaseBucket is the JetStream key-value bucket of the lease; its
	// entries expire after the lease's TTL unless renewed.
	LeaseBucket = "SGSWEEP_LEASE"
	leaseKey    = "coordinator"
	// DefaultLeaseTTL is how long a crashed coordinator blocks a
	// successor elsewhere; the holder renews every third of it.
	DefaultLeaseTTL = 15 * time.Second
)

// LeaseHolder identifies a coordinator: its host, data dir and process,
// and since when it holds the lease.
type LeaseHolder struct {
	Host    string    `json:"host"`
	DataDir string    `json:"data_dir"`
	PID     int       `json:"pid"`
	Since   time.Time `json:"since"`
}

func (h LeaseHolder) String() string {
	return fmt.Sprintf("host %s, data dir %s, pid %d, since %s", h.Host, h.DataDir, h.PID, h.Since.Format(time.RFC3339))
}

// ErrLeaseHeld: another coordinator holds the lease.
var ErrLeaseHeld = errors.New("another coordinator runs on this NATS deployment")

// LeaseHeldError names the holder of the lease and when it expires unless
// renewed.
type LeaseHeldError struct {
	Holder  LeaseHolder
	Expires time.Time
}

func (e *LeaseHeldError) Error() string {
	return fmt.Sprintf("%v (%s); its lease expires at %s unless it renews it: stop that coordinator, or wait that "+
		"long if it crashed", ErrLeaseHeld, e.Holder, e.Expires.Format(time.RFC3339))
}

func (e *LeaseHeldError) Unwrap() error { return ErrLeaseHeld }

// Lease is the held coordinator lease.
type Lease struct {
	kv     jetstream.KeyValue
	holder LeaseHolder
	data   []byte
	ttl    time.Duration
	rev    uint64
}

// AcquireLease takes the deployment's coordinator lease for holder, with
// entries that expire after ttl (DefaultLeaseTTL when 0). A lease left by a
// coordinator of the same host and data dir is taken over at once: the
// caller holds the store's lock, so that coordinator is dead. Any other
// valid lease is a *LeaseHeldError. While the server does not answer yet
// (a cluster still electing its leaders) it retries, logging to log.
func AcquireLease(ctx context.Context, js jetstream.JetStream, holder LeaseHolder, ttl time.Duration, replicas int, log *slog.Logger) (*Lease, error) {
	var l *Lease
	held := func(err error) bool { return errors.Is(err, ErrLeaseHeld) }
	err := untilReady(ctx, log, "taking the coordinator lease", held, func(ctx context.Context) (err error) {
		l, err = acquireLease(ctx, js, holder, ttl, replicas)
		return err
	})
	return l, err
}

// acquireLease is one attempt of AcquireLease.
func acquireLease(ctx context.Context, js jetstream.JetStream, holder LeaseHolder, ttl time.Duration, replicas int) (*Lease, error) {
	if ttl <= 0 {
		ttl = DefaultLeaseTTL
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      LeaseBucket,
		Description: "the sgsweep coordinator's lease: one coordinator per deployment",
		History:     1,
		TTL:         ttl,
		Storage:     jetstream.FileStorage,
		Replicas:    max(replicas, 1),
	})
	if err != nil {
		return nil, fmt.Errorf("coordinator lease: %w", err)
	}
	holder.Since = holder.Since.UTC()
	data, err := json.Marshal(holder)
	if err != nil {
		return nil, err
	}
	l := &Lease{kv: kv, holder: holder, data: data, ttl: ttl}
	l.rev, err = kv.Create(ctx, leaseKey, data)
	if err == nil {
		return l, nil
	}
	if !errors.Is(err, jetstream.ErrKeyExists) {
		return nil, fmt.Errorf("coordinator lease: %w", err)
	}
	entry, err := kv.Get(ctx, leaseKey)
	if errors.Is(err, jetstream.ErrKeyNotFound) { // expired meanwhile
		return acquireLease(ctx, js, holder, ttl, replicas)
	}
	if err != nil {
		return nil, fmt.Errorf("coordinator lease: %w", err)
	}
	var other LeaseHolder
	if err := json.Unmarshal(entry.Value(), &other); err != nil {
		return nil, fmt.Errorf("coordinator lease: holder %q: %w", entry.Value(), err)
	}
	if other.Host != holder.Host || other.DataDir != holder.DataDir {
		return nil, &LeaseHeldError{Holder: other, Expires: entry.Created().Add(ttl)}
	}
	if l.rev, err = kv.Update(ctx, leaseKey, data, entry.Revision()); err != nil {
		return nil, fmt.Errorf("coordinator lease: take over from %s: %w", other, err)
	}
	return l, nil
}

// ErrLeaseLost: the lease expired and another coordinator took it, so this
// one must stop.
var ErrLeaseLost = errors.New("coordinator lease lost")

// Keep renews the lease every third of its TTL until ctx is done (nil) or
// the lease is lost (an error wrapping ErrLeaseLost). A renewal that fails
// for another reason (the server is unreachable) is retried at the next
// tick; a lease that expired meanwhile is taken again if nobody else did.
func (l *Lease) Keep(ctx context.Context, log *slog.Logger) error {
	tick := time.NewTicker(l.ttl / 3)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		rctx, cancel := context.WithTimeout(ctx, l.ttl/3)
		rev, err := l.kv.Update(rctx, leaseKey, l.data, l.rev)
		if errors.Is(err, jetstream.ErrKeyRevisionMismatch) || errors.Is(err, jetstream.ErrKeyNotFound) {
			// Wrong last revision: expired (then Create succeeds) or taken.
			rev, err = l.kv.Create(rctx, leaseKey, l.data)
			if errors.Is(err, jetstream.ErrKeyExists) {
				cancel()
				held := "another coordinator"
				if e, gerr := l.kv.Get(ctx, leaseKey); gerr == nil {
					var other LeaseHolder
					if json.Unmarshal(e.Value(), &other) == nil {
						held = other.String()
					}
				}
				return fmt.Errorf("%w: it expired and %s took it", ErrLeaseLost, held)
			}
		}
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			log.Warn("renewing the coordinator lease; retrying", "err", err)
			continue
		}
		l.rev = rev
	}
}

// Release gives the lease up (if this coordinator still holds it), so that
// a successor can start at once.
func (l *Lease) Release(ctx context.Context) error {
	return l.kv.Delete(ctx, leaseKey, jetstream.LastRevision(l.rev))
}
