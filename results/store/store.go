package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
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
// DefaultTimeout for the lock, checks an existing file before writing to it
// and syncs every commit to disk.
type Options struct {
	// ReadOnly opens the store for reading; it shares the file with other
	// readers but not with a writer.
	ReadOnly bool
	// Timeout is how long to wait for the file lock; 0 means DefaultTimeout.
	Timeout time.Duration
	// NoSync skips fsync on commit: faster, and a machine crash can corrupt
	// the file. For tests and benchmarks only.
	NoSync bool
	// FullCheckLimit is the largest existing file a read-write Open checks
	// completely; larger ones get the bounded check (Store.Verify). 0 means
	// DefaultFullCheckLimit.
	FullCheckLimit int64
}

// Store is the results store: sweeps, their planned tasks, task states and
// results, in one bbolt file. It is safe for concurrent use; bbolt allows one
// writer and any number of readers at a time.
//
// No bbolt panic leaves a Store method or Open: bbolt panics on some damaged
// pages instead of returning an error, and each transaction recovers such a
// panic into a *DamagedError naming the file. After one, the store refuses
// every further write (its file may be damaged; bbolt has rolled the
// transaction back). A memory fault reading the mapped file (a file
// truncated under the store, a disk read error) is turned into such a panic
// too (debug.SetPanicOnFault). bbolt runs no goroutine of its own except
// tx.Check's, which recovers its panics itself.
type Store struct {
	db       *bolt.DB
	path     string
	readOnly bool
	// damaged is set by the first recovered panic; writes are refused
	// after it.
	damaged atomic.Pointer[DamagedError]
	// planMu serialises PlanSweep (it writes in several transactions) with
	// itself and with the changes of a sweep's state (Cancel, Retry), which
	// its final transaction would otherwise overwrite.
	planMu sync.Mutex
}

// Open opens the store at path, read-write unless opts.ReadOnly.
//
// A new store is created only where no file exists. An existing file opened
// for writing is first opened read-only and checked (Store.Verify: the full
// check up to Options.FullCheckLimit, the bounded one above); a damaged file
// is refused with a *DamagedError, never opened for writing, and so left
// byte for byte unchanged. An empty (zero-length) file is damaged too, not
// a new store.
//
// A store held by another process yields, after the timeout, an error
// wrapping ErrLocked; a read-only open of a missing file one wrapping
// fs.ErrNotExist; a store of a newer layout one wrapping ErrSchema; a
// damaged one one wrapping ErrDamaged.
func Open(path string, opts *Options) (*Store, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.FullCheckLimit <= 0 {
		o.FullCheckLimit = DefaultFullCheckLimit
	}
	info, err := os.Stat(path)
	switch {
	case err == nil && info.IsDir():
		return nil, fmt.Errorf("open store %s: is a directory", path)
	case err == nil && info.Size() == 0:
		dmg := &DamagedError{Path: path, Unchanged: true}
		dmg.add("the file is empty (0 bytes), not a store; a new store is created only where no file exists")
		return nil, dmg
	case err == nil:
		if !o.ReadOnly {
			if err := checkBeforeWrite(path, o, info.Size()); err != nil {
				return nil, err
			}
		}
	case o.ReadOnly || !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("open store: %w", err)
	default:
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, fmt.Errorf("open store: %w", err)
		}
	}
	return openDB(path, o)
}

// checkBeforeWrite opens the existing file at path read-only (a shared
// lock: it waits for a writer like a read-write open would) and verifies
// it: fully up to o.FullCheckLimit bytes, bounded above.
func checkBeforeWrite(path string, o Options, size int64) error {
	ro := o
	ro.ReadOnly = true
	s, err := openDB(path, ro)
	if err != nil {
		return err
	}
	defer s.Close()
	_, err = s.Verify(context.Background(), size <= o.FullCheckLimit)
	var dmg *DamagedError
	if errors.As(err, &dmg) {
		dmg.Unchanged = true
	}
	return err
}

// openDB opens the bbolt file and checks or creates the layout, recovering
// bbolt's panics.
func openDB(path string, o Options) (_ *Store, err error) {
	defer recovered(path, &err)
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:  o.Timeout,
		ReadOnly: o.ReadOnly,
		NoSync:   o.NoSync,
	})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("%s is held by a running coordinator or another sgsweep process (waited %v): %w",
			path, o.Timeout, ErrLocked)
	}
	if errors.Is(err, bolterrors.ErrInvalid) || errors.Is(err, bolterrors.ErrChecksum) || errors.Is(err, bolterrors.ErrVersionMismatch) {
		dmg := &DamagedError{Path: path, Unchanged: true}
		dmg.add("%v", err)
		return nil, dmg
	}
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s := &Store{db: db, path: path, readOnly: o.ReadOnly}
	if err := s.checkSize(); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.init(); err != nil {
		db.Close()
		if errors.Is(err, ErrDamaged) {
			return nil, err
		}
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	return s, nil
}

// Path is the store's file name.
func (s *Store) Path() string { return s.path }

// Close releases the file and its lock.
func (s *Store) Close() (err error) {
	defer recovered(s.path, &err)
	return s.db.Close()
}

// init creates the buckets of a new store, or checks the layout version of
// an existing one.
func (s *Store) init() error {
	ctx := context.Background()
	if s.readOnly {
		return s.view(ctx, func(tx *bolt.Tx) error { return checkSchema(tx) })
	}
	return s.update(ctx, func(tx *bolt.Tx) error {
		if tx.Bucket(bucketMeta) != nil {
			if err := checkSchema(tx); err != nil {
				return err
			}
			// Stores written before early stopping lack stops/.
			_, err := tx.CreateBucketIfNotExists(bucketStops)
			return err
		}
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		if _, err := tx.CreateBucketIfNotExists(bucketStops); err != nil {
			return err
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

// checkSize refuses a truncated file: one shorter than the pages its meta
// page counts (an interrupted copy, a full disk). Reading the missing
// pages would fault.
func (s *Store) checkSize() error {
	info, err := os.Stat(s.path)
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	return s.view(context.Background(), func(tx *bolt.Tx) error {
		if tx.Size() > info.Size() {
			dmg := &DamagedError{Path: s.path, Unchanged: true}
			dmg.add("truncated: its pages need %d bytes, the file has %d", tx.Size(), info.Size())
			return dmg
		}
		return nil
	})
}

// view runs fn in a read transaction, after checking ctx. A bbolt panic
// becomes a *DamagedError (see Store).
func (s *Store) view(ctx context.Context, fn func(tx *bolt.Tx) error) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	defer s.recover(&err)
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	return s.db.View(fn)
}

// update runs fn in a read-write transaction, after checking ctx. A bbolt
// panic becomes a *DamagedError, and the store refuses writes after it.
func (s *Store) update(ctx context.Context, fn func(tx *bolt.Tx) error) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.readOnly {
		return fmt.Errorf("store %s is open read-only: %w", s.path, bolterrors.ErrDatabaseReadOnly)
	}
	if dmg := s.damaged.Load(); dmg != nil {
		return fmt.Errorf("no more writes after an earlier failure: %w", dmg)
	}
	defer s.recover(&err)
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	return s.db.Update(fn)
}

// recover turns a bbolt panic into a *DamagedError and remembers the
// first one. Use it deferred.
func (s *Store) recover(err *error) {
	if r := recover(); r != nil {
		dmg := panicError(s.path, r)
		s.damaged.CompareAndSwap(nil, dmg)
		*err = dmg
	}
}

// now is the store's clock, in UTC.
func now() time.Time { return time.Now().UTC() }
