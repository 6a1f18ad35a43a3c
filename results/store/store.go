package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// SchemaVersion is the version of the bucket layout described in doc.go. A
// store written by a newer layout is refused; an older one is migrated on a
// read-write open (there is none yet).
const SchemaVersion = 1

// DefaultTimeout is how long Open waits for the file lock when
// Options.Timeout is zero.
const DefaultTimeout = time.Second

var (
	// ErrLocked means another process holds the store: a running coordinator
	// (`sgsweep run` or `sgsweep coordinator`) owns it for writing.
	ErrLocked = errors.New("store is locked by another process")
	// ErrSchema means the file is not a store this binary can read.
	ErrSchema = errors.New("unsupported store layout")
)

// Options configures Open. The zero value opens read-write, waits
// DefaultTimeout for the lock and syncs every commit to disk.
type Options struct {
	// ReadOnly opens the store for reading; it shares the file with other
	// readers but not with a writer.
	ReadOnly bool
	// Timeout is how long to wait for the file lock; 0 means DefaultTimeout.
	Timeout time.Duration
	// NoSync skips fsync on commit: faster, and a machine crash can corrupt
	// the file. For tests and benchmarks only.
	NoSync bool
}

// Store is the results store: sweeps, their planned tasks, task states and
// results, in one bbolt file. It is safe for concurrent use; bbolt allows one
// writer and any number of readers at a time.
type Store struct {
	db       *bolt.DB
	path     string
	readOnly bool
	// planMu serialises PlanSweep (it writes in several transactions) with
	// itself and with the changes of a sweep's state (Cancel, Retry), which
	// its final transaction would otherwise overwrite.
	planMu sync.Mutex
}

// Open opens (read-write: creating if needed) the store at path. A store held
// by another process yields, after the timeout, an error wrapping ErrLocked;
// a read-only open of a missing file one wrapping fs.ErrNotExist; a store of a
// newer layout one wrapping ErrSchema.
func Open(path string, opts *Options) (*Store, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.ReadOnly {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("open store: %w", err)
		}
	} else if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:  o.Timeout,
		ReadOnly: o.ReadOnly,
		NoSync:   o.NoSync,
	})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("%s is held by a running coordinator or another sgsweep process (waited %v): %w",
			path, o.Timeout, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s := &Store{db: db, path: path, readOnly: o.ReadOnly}
	if err := s.init(); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	return s, nil
}

// Path is the store's file name.
func (s *Store) Path() string { return s.path }

// Close releases the file and its lock.
func (s *Store) Close() error { return s.db.Close() }

// Check verifies the file's page structure (bbolt's consistency check) and
// returns the first problem found.
func (s *Store) Check(ctx context.Context) error {
	return s.db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			return err
		}
		return ctx.Err()
	})
}

// init creates the buckets of a new store, or checks the layout version of
// an existing one.
func (s *Store) init() error {
	if s.readOnly {
		return s.db.View(func(tx *bolt.Tx) error { return checkSchema(tx) })
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketMeta) != nil {
			return checkSchema(tx)
		}
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		if err := meta.Put(keySchema, []byte(strconv.Itoa(SchemaVersion))); err != nil {
			return err
		}
		return meta.Put(keyCreated, []byte(now().Format(time.RFC3339Nano)))
	})
}

func checkSchema(tx *bolt.Tx) error {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		return fmt.Errorf("not an sgsweep store (no %q bucket): %w", bucketMeta, ErrSchema)
	}
	v, err := strconv.Atoi(string(meta.Get(keySchema)))
	if err != nil {
		return fmt.Errorf("unreadable layout version %q: %w", meta.Get(keySchema), ErrSchema)
	}
	if v > SchemaVersion {
		return fmt.Errorf("layout v%d is newer than this sgsweep supports (v%d); upgrade sgsweep: %w",
			v, SchemaVersion, ErrSchema)
	}
	for _, name := range allBuckets {
		if tx.Bucket(name) == nil {
			return fmt.Errorf("bucket %q missing: %w", name, ErrSchema)
		}
	}
	return nil
}

// view runs fn in a read transaction, after checking ctx.
func (s *Store) view(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.View(fn)
}

// update runs fn in a read-write transaction, after checking ctx.
func (s *Store) update(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.readOnly {
		return fmt.Errorf("store %s is open read-only: %w", s.path, bolterrors.ErrDatabaseReadOnly)
	}
	return s.db.Update(fn)
}

// now is the store's clock, in UTC.
func now() time.Time { return time.Now().UTC() }
