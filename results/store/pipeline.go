package store

import (
	"bytes"
	"context"
	"errors"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"

	"github.com/sgsweep/sgsweep/results"
	bolt "go.etcd.io/bbolt"
)

// pipelineBatch is the number of consecutive records the stages of
// readPipeline hand on at once.
const pipelineBatch = 512

// recordBatch is a run of consecutive records of a walk: their stored
// values, then their decoded records (or the error decoding them) once
// done is closed.
type recordBatch struct {
	raws []rawRecord
	recs []*results.Record
	err  error
	done chan struct{}
}

// readPipeline calls fn with every record of the sweep, in ordinal order,
// on the calling goroutine. Reading a record is looking up its stored
// values (random B-tree lookups: a third of the time over a large sweep)
// and decoding them (half of it); both used to run on one core. Here one
// goroutine walks the sweep's order and looks up the values in tx (the
// only one using it: bbolt's transactions are not safe for concurrent
// use), GOMAXPROCS goroutines decode batches of them (reading the
// transaction's memory map, which stays valid while tx is open), and the
// caller takes the batches back in order. At most about 3·GOMAXPROCS + 1
// batches are in flight. Every goroutine has ended when it returns.
func (s *Store) readPipeline(ctx context.Context, tx *bolt.Tx, name string, fn func(*results.Record) error) error {
	workers := runtime.GOMAXPROCS(0)
	work := make(chan *recordBatch, workers)
	ordered := make(chan *recordBatch, workers)
	quit := make(chan struct{})
	stop := sync.OnceFunc(func() { close(quit) })
	var wg sync.WaitGroup
	// The goroutines read tx: they must have ended before it closes, also
	// when fn panics.
	defer func() {
		stop()
		wg.Wait()
	}()

	var walkErr error
	wg.Go(func() {
		defer close(ordered)
		defer close(work)
		walkErr = s.walkRaw(ctx, tx, name, func(b *recordBatch) bool {
			select {
			case work <- b:
			case <-quit:
				return false
			}
			select {
			case ordered <- b:
				return true
			case <-quit:
				return false
			}
		})
	})
	for range workers {
		wg.Go(func() {
			defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
			dec := new(resultReader)
			for b := range work {
				select {
				case <-quit:
				default:
					s.decodeBatch(name, b, dec)
				}
				close(b.done)
			}
		})
	}

	var err error
	for b := range ordered {
		if err != nil {
			continue // draining after an error
		}
		<-b.done
		if err = b.err; err == nil {
			err = ctx.Err()
		}
		for _, r := range b.recs {
			if err != nil {
				break
			}
			err = fn(r)
		}
		if err != nil {
			stop()
		}
	}
	wg.Wait()
	if err != nil {
		return err
	}
	return walkErr
}

// walkRaw looks up the stored values of the sweep's records in ordinal
// order and hands them to send in batches, until send returns false. A
// fault reading the store's file is a *DamagedError (see view).
func (s *Store) walkRaw(ctx context.Context, tx *bolt.Tx, name string, send func(*recordBatch) bool) (err error) {
	defer s.recover(&err)
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	rd := newRecordReader(tx, name)
	newBatch := func() *recordBatch {
		return &recordBatch{raws: make([]rawRecord, 0, pipelineBatch), done: make(chan struct{})}
	}
	b := newBatch()
	n := 0
	err = forOrder(tx, name, func(ordinal uint64, id []byte) error {
		if n++; n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		b.raws = append(b.raws, rawRecord{ordinal: ordinal, id: id})
		if len(b.raws) == pipelineBatch {
			rd.lookUp(b.raws)
			if !send(b) {
				return errStopped
			}
			b = newBatch()
		}
		return nil
	})
	if err == nil && len(b.raws) > 0 {
		rd.lookUp(b.raws)
		send(b)
	}
	if errors.Is(err, errStopped) {
		err = nil
	}
	return err
}

// errStopped ends a walk whose consumer has stopped.
var errStopped = errors.New("walk stopped")

// decodeBatch decodes b's records with dec. A fault reading the store's
// file is a *DamagedError in b.err (see view).
func (s *Store) decodeBatch(name string, b *recordBatch, dec *resultReader) {
	defer s.recover(&b.err)
	b.recs = make([]*results.Record, len(b.raws))
	for i := range b.raws {
		r, err := b.raws[i].record(name, dec)
		if err != nil {
			b.err = err
			return
		}
		b.recs[i] = r
	}
}

// lookUp fills in the stored values of raws (ordinal and id set), looking
// them up in task ID order: the B-tree pages of successive lookups are then
// near each other in the file and in the cache.
func (rd *recordReader) lookUp(raws []rawRecord) {
	byID := make([]int32, len(raws))
	for i := range byID {
		byID[i] = int32(i)
	}
	slices.SortFunc(byID, func(i, j int32) int { return bytes.Compare(raws[i].id, raws[j].id) })
	for _, i := range byID {
		raws[i] = rd.raw(raws[i].ordinal, raws[i].id)
	}
}
