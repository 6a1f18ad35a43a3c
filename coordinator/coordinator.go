package coordinator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/sync/errgroup"

	"github.com/sgsweep/sgsweep/internal/retry"
	"github.com/sgsweep/sgsweep/results/store"
)

// Coordinator plans sweeps in the store, publishes their missing tasks,
// commits the results workers send back (then acks them), records dead
// tasks as failed, and serves the control API. It is the store's only
// writer while it runs.
type Coordinator struct {
	store *store.Store
	nc    *nats.Conn
	js    jetstream.JetStream
	cfg   Config
	log   *slog.Logger
	rate  *rateMeter
	// tickets makes the task messages' tickets and checks the results'
	// (tickets.go).
	tickets *Tickets

	// kick asks the publisher for a pass (buffered: kicks coalesce).
	kick chan struct{}
	// ready is closed once the streams exist and the control service
	// answers.
	ready chan struct{}

	mu      sync.Mutex
	streams *Streams // set by Run

	// publishMu makes a publish window and a cancel exclusive, so that no
	// window publishes tasks of a sweep cancelled meanwhile.
	publishMu sync.Mutex

	published, alreadyQueued, committed atomic.Int64

	events eventHub // watchers' subscriptions (events.go)

	stops stopBook // early stopping, per sweep (stops.go)
	// verifies caches the sweeps' verify blocks (verify.go).
	verifies verifyBook
	// stopDelay is the pause between committing a stop decision and
	// replying with it: 0 except in tests (StopDelayEnv).
	stopDelay time.Duration
}

// Stats counts the coordinator's work since New.
type Stats struct {
	// Published counts task messages the stream accepted; AlreadyQueued
	// publications refused because the task's message was already there.
	Published, AlreadyQueued int64
	// Committed counts result messages committed (stored, duplicate or
	// conflicting).
	Committed int64
}

// Stats returns the counters so far.
func (c *Coordinator) Stats() Stats {
	return Stats{Published: c.published.Load(), AlreadyQueued: c.alreadyQueued.Load(), Committed: c.committed.Load()}
}

// New returns a coordinator over an open (read-write) store and a NATS
// connection. Nothing happens until Run; Submit may be called before.
func New(st *store.Store, nc *nats.Conn, cfg Config) (*Coordinator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("coordinator config: %w", err)
	}
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncTimeout(30*time.Second))
	if err != nil {
		return nil, fmt.Errorf("coordinator: %w", err)
	}
	c := &Coordinator{
		store: st,
		nc:    nc,
		js:    js,
		cfg:   cfg,
		log:   cfg.logger(),
		rate:  newRateMeter(cfg.RateWindow),
		kick:  make(chan struct{}, 1),
		ready: make(chan struct{}),
	}
	if c.tickets = randomTickets(); cfg.TicketKey != nil {
		if c.tickets, err = NewTickets(cfg.TicketKey); err != nil {
			return nil, fmt.Errorf("coordinator config: %w", err)
		}
	}
	c.stopDelay = stopDelay(c.log)
	c.kickPublisher() // the first pass resumes every running sweep
	return c, nil
}

// Ready is closed once Run has set up the streams and serves the control
// API.
func (c *Coordinator) Ready() <-chan struct{} { return c.ready }

// Run sets up the streams and consumers, commits the results already
// waiting, then publishes pending tasks, consumes results and dead letters
// and serves the control API until ctx is cancelled. It returns nil on
// cancellation.
func (c *Coordinator) Run(ctx context.Context) error {
	streams, err := c.ensureStreams(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	c.mu.Lock()
	c.streams = streams
	c.mu.Unlock()

	// Results already in the stream settle their tasks before anything is
	// republished, so that they are not computed twice.
	if err := c.drainResults(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	// Progress requests of tasks queued or running before a restart are
	// answered from the start (stops.go).
	if err := c.watchStops(ctx); err != nil {
		c.log.Warn("early stopping of running sweeps; answered once their tasks are published again", "err", err)
	}
	svc, err := c.serve(ctx)
	if err != nil {
		return err
	}
	close(c.ready)
	c.log.Info("coordinator running", "store", c.store.Path())

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return c.resultLoop(gctx) })
	g.Go(func() error { return c.deadLetterLoop(gctx) })
	g.Go(func() error { return c.publishLoop(gctx) })
	g.Go(func() error { return c.backupLoop(gctx) })
	g.Go(func() error { return c.progressLoop(gctx) }) // events.go
	g.Go(func() error { return c.reconcileLoop(gctx) })
	g.Go(func() error { c.republishVerifications(gctx); return nil }) // verify.go
	err = g.Wait()
	c.closeStops() // stops.go
	// Stop unsubscribes the control endpoints; the flush makes sure the
	// server has the unsubscriptions (and the last acks) before Run returns,
	// so that a stopped coordinator answers no further request.
	if serr := svc.Stop(); serr != nil {
		c.log.Warn("stop the control service", "err", serr)
	}
	if ferr := c.nc.Flush(); ferr != nil && !errors.Is(ferr, nats.ErrConnectionClosed) {
		c.log.Warn("flush at shutdown", "err", ferr)
	}
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// readyBackoff paces untilReady: 200 ms doubling up to 5 s.
var readyBackoff = retry.Backoff{Base: 200 * time.Millisecond, Max: 5 * time.Second}

// untilReady calls fn, each time with a deadline of 10 s, until it succeeds,
// fails for good (permanent reports which errors are final; a JetStream
// API error 400, a bad request, always is), 30 attempts have failed or ctx
// is done. It is how the coordinator waits for a server that is not
// answering yet (starting up, JetStream not ready, a cluster electing its
// leaders): a JetStream API request sent before then may never be
// answered, so each attempt needs its own deadline.
func untilReady(ctx context.Context, log *slog.Logger, what string, permanent func(error) bool, fn func(context.Context) error) error {
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := fn(actx)
		cancel()
		if err == nil {
			return nil
		}
		var apiErr *jetstream.APIError
		if errors.As(err, &apiErr) && apiErr.Code == 400 || permanent != nil && permanent(err) || attempt == 30 || ctx.Err() != nil {
			return err
		}
		log.Warn(what+"; retrying", "err", err)
		if err := readyBackoff.Wait(ctx, attempt); err != nil {
			return err
		}
	}
}

// ensureStreams creates the streams, retrying while the server is not
// answering.
func (c *Coordinator) ensureStreams(ctx context.Context) (*Streams, error) {
	var s *Streams
	err := untilReady(ctx, c.log, "setting up streams", nil, func(ctx context.Context) (err error) {
		s, err = EnsureStreams(ctx, c.js, c.cfg)
		return err
	})
	return s, err
}

// current returns the streams, or an error before Run has set them up.
func (c *Coordinator) current() (*Streams, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.streams == nil {
		return nil, errors.New("coordinator is not running yet")
	}
	return c.streams, nil
}

// kickPublisher asks for a publish pass; kicks coalesce.
func (c *Coordinator) kickPublisher() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}
