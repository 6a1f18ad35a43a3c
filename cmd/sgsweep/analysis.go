package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/urfave/cli/v2"

	"github.com/sgsweep/sgsweep/coordinator"
	"github.com/sgsweep/sgsweep/results/store"
)

// The commands that read sweeps (status, results, plot, plan, export) ask
// the running coordinator, which holds the store, or, when none answers,
// open the store of --data-dir read-only. readSource and askOrRead are that
// rule, written once; readOptions are the differences between the commands.

// analysisLockTimeout is how long a read-only open of the store waits for a
// store that a running coordinator holds, before saying so.
const analysisLockTimeout = 500 * time.Millisecond

// pingTimeout bounds the probe that tells whether a coordinator answers.
const pingTimeout = 5 * time.Second

// readOptions are what the reading commands do differently.
type readOptions struct {
	// missingStoreOK makes a missing store no error: read is then called
	// with a nil store (plan: every task would run).
	missingStoreOK bool
	// snapshot: while a coordinator holds the store, read a snapshot of it
	// that the coordinator writes beside it, and remove the snapshot after
	// (export, which reads the store directly and asks the coordinator for
	// nothing else). Without it a held store is an error.
	snapshot bool
	// lockedAdvice follows the error of a store that a coordinator holds
	// while none answered; the default says to stop the coordinator.
	lockedAdvice string
	// connErrReadsStore: a NATS connection that fails for any reason (the
	// server refused the credentials, a TLS file is unreadable), not only
	// for want of a server, means reading the store, after a debug log
	// (status, plan: the store alone answers them). Without it such a
	// failure is an error (results, plot).
	connErrReadsStore bool
}

// readSource is where a command reads sweeps: the running coordinator (over
// NATS: --nats, or the embedded server of --data-dir) if one answers, else
// the store of --data-dir opened read-only. It connects to NATS on first
// use, once, and keeps the connection until close.
type readSource struct {
	c    *cli.Context
	opts readOptions
	log  *slog.Logger

	dialed  bool
	client  *coordinator.Client // nil when the dial failed (dialErr)
	nc      *nats.Conn
	dialErr error
}

func newReadSource(c *cli.Context, opts readOptions) *readSource {
	return &readSource{c: c, opts: opts}
}

// close closes the NATS connection, if any.
func (s *readSource) close() {
	if s.nc != nil {
		s.nc.Close()
	}
}

// logger returns the logger of the global flags; a bad flag is a usage
// error.
func (s *readSource) logger() (*slog.Logger, error) {
	if s.log == nil {
		log, err := newLogger(s.c)
		if err != nil {
			return nil, usageError{err}
		}
		s.log = log
	}
	return s.log, nil
}

// dial connects to NATS once (see dialCoordinator) and returns the
// coordinator client, or the error of the first dial. A bad logging flag
// is a usage error, before any dial.
func (s *readSource) dial() (*coordinator.Client, error) {
	log, err := s.logger()
	if err != nil {
		return nil, err
	}
	if !s.dialed {
		s.dialed = true
		s.client, s.nc, s.dialErr = dialCoordinator(s.c, log)
	}
	return s.client, s.dialErr
}

// conn returns the NATS connection, nil when there is none.
func (s *readSource) conn() *nats.Conn {
	s.dial()
	return s.nc
}

// coordinator returns the client of a coordinator that answers a ping now.
// When none answers (no server, or no coordinator on it: with
// connErrReadsStore, any failure to connect), the error wraps
// coordinator.ErrNoCoordinator.
func (s *readSource) coordinator(ctx context.Context) (*coordinator.Client, error) {
	// A bad logging flag is a usage error, never a missing coordinator.
	if _, err := s.logger(); err != nil {
		return nil, err
	}
	client, err := s.dial()
	switch {
	case err != nil && s.opts.connErrReadsStore && !errors.Is(err, coordinator.ErrNoCoordinator):
		return nil, fmt.Errorf("%w (%w)", coordinator.ErrNoCoordinator, err)
	case err != nil:
		return nil, err
	}
	// A NATS server without a coordinator (an external --nats) falls back
	// to the store here; a coordinator that does not reply in time is an
	// error. (A stale nats.json already fails at the dial.)
	pctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	if err := client.Ping(pctx); err != nil {
		return nil, err
	}
	return client, nil
}

// askOrRead answers from the running coordinator with ask, if one answers,
// else from the store of --data-dir, opened read-only for read and closed
// after (see readOptions for a missing or held store). A coordinator that
// stops answering before ask's reply also leaves the answer to the store.
// A nil ask reads the store only.
func askOrRead[T any](ctx context.Context, s *readSource,
	ask func(context.Context, *coordinator.Client) (T, error),
	read func(context.Context, *store.Store) (T, error)) (T, error) {
	var zero T
	if ask != nil {
		client, err := s.coordinator(ctx)
		if err == nil {
			s.log.Debug("asking the running coordinator")
			v, err := ask(ctx, client)
			if !errors.Is(err, coordinator.ErrNoCoordinator) {
				return v, err
			}
		}
		if !errors.Is(err, coordinator.ErrNoCoordinator) {
			return zero, err
		}
		s.log.Debug("no coordinator; reading the store", "err", err)
	}
	st, release, err := s.openStore(ctx)
	if err != nil {
		return zero, err
	}
	defer release()
	return read(ctx, st)
}

// openStore opens the store of --data-dir read-only, with errors that say
// what to do, and returns the function that closes it.
func (s *readSource) openStore(ctx context.Context) (*store.Store, func(), error) {
	path := dataDirOf(s.c).statePath()
	st, err := store.Open(path, &store.Options{ReadOnly: true, Timeout: analysisLockTimeout})
	switch {
	case err == nil:
		return st, func() { st.Close() }, nil
	case errors.Is(err, fs.ErrNotExist) && s.opts.missingStoreOK:
		if log, err := s.logger(); err == nil {
			log.Debug("no results store", "path", path)
		}
		return nil, func() {}, nil
	case errors.Is(err, fs.ErrNotExist):
		return nil, nil, fmt.Errorf("no results store at %s: run a sweep first, or point --data-dir (SGSWEEP_DATA_DIR) at its state directory", path)
	case errors.Is(err, store.ErrLocked):
		advice := s.opts.lockedAdvice
		if advice == "" {
			advice = "stop the coordinator to read the store directly"
		}
		err = fmt.Errorf("%w; %s", err, advice)
		if s.opts.snapshot {
			return s.openSnapshot(ctx, err)
		}
		return nil, nil, err
	default:
		return nil, nil, err
	}
}

// openSnapshot asks the coordinator that holds the store (lockErr) for a
// snapshot of it and opens that read-only; the function it returns closes
// the snapshot and removes it.
func (s *readSource) openSnapshot(ctx context.Context, lockErr error) (*store.Store, func(), error) {
	if _, err := s.logger(); err != nil {
		return nil, nil, err
	}
	client, err := s.dial()
	if err != nil {
		return nil, nil, fmt.Errorf("%w (and no coordinator answered to write a snapshot: %w)", lockErr, err)
	}
	sctx, cancel := context.WithTimeout(ctx, controlTimeout)
	defer cancel()
	snap, err := client.Snapshot(sctx)
	if err != nil {
		return nil, nil, fmt.Errorf("%w (and the coordinator's snapshot failed: %w)", lockErr, err)
	}
	st, err := store.Open(snap.Path, &store.Options{ReadOnly: true, Timeout: analysisLockTimeout})
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("the coordinator wrote its snapshot to %s on host %s, which this machine cannot see: "+
			"export there, or stop the coordinator", snap.Path, snap.Host)
	}
	if err != nil {
		os.Remove(snap.Path)
		return nil, nil, err
	}
	s.log.Debug("reading a snapshot of the coordinator's store", "path", snap.Path)
	return st, func() { st.Close(); os.Remove(snap.Path) }, nil
}
