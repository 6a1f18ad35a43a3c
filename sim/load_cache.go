package sim

import (
	"container/list"
	"fmt"
	"sync"
)

// sharedDatasets is the process-wide cache of LoadDataset. A worker runs
// many tasks on the same few datasets; generating Randman or decoding MNIST
// once per task would waste seconds each time.
var sharedDatasets = newDatasetCache(4, 1<<30)

// datasetCache keeps the most recently used datasets, at most maxEntries of
// them and (beyond the most recent one) at most maxBytes of their slices.
// It is safe for concurrent use. Concurrent gets of one key load it once:
// the first caller loads, the others wait for its result. Failed loads are
// not kept, so a later get tries again (the files may have appeared).
type datasetCache struct {
	maxEntries int
	maxBytes   int64

	mu      sync.Mutex
	entries map[datasetKey]*list.Element // of *cacheEntry
	recency *list.List                   // most recently used first
	bytes   int64                        // of the loaded entries
}

type cacheEntry struct {
	key   datasetKey
	ready chan struct{} // closed when ds and err are set
	ds    *Dataset
	err   error
	bytes int64 // set with ready, under the cache's mutex
	done  bool  // ready is closed; under the cache's mutex
}

func newDatasetCache(maxEntries int, maxBytes int64) *datasetCache {
	return &datasetCache{
		maxEntries: max(1, maxEntries),
		maxBytes:   maxBytes,
		entries:    make(map[datasetKey]*list.Element),
		recency:    list.New(),
	}
}

// get returns the dataset of key, calling load if no other call has it or
// is loading it.
func (c *datasetCache) get(key datasetKey, load func() (*Dataset, error)) (*Dataset, error) {
	c.mu.Lock()
	if el, ok := c.entries[key]; ok {
		c.recency.MoveToFront(el)
		e := el.Value.(*cacheEntry)
		c.mu.Unlock()
		<-e.ready
		return e.ds, e.err
	}
	e := &cacheEntry{key: key, ready: make(chan struct{})}
	el := c.recency.PushFront(e)
	c.entries[key] = el
	c.mu.Unlock()

	finished := false
	defer func() {
		if !finished { // load panicked: release the waiters, keep nothing
			e.err = fmt.Errorf("dataset loader panicked")
			c.finish(el, e)
		}
	}()
	e.ds, e.err = load()
	finished = true
	c.finish(el, e)
	return e.ds, e.err
}

// finish publishes e's result, drops it if it failed, and evicts.
func (c *datasetCache) finish(el *list.Element, e *cacheEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e.done = true
	close(e.ready)
	if e.err != nil {
		c.remove(el)
		return
	}
	e.bytes = datasetBytes(e.ds)
	c.bytes += e.bytes
	c.evict()
}

// evict drops the least recently used loaded entries while there are too
// many or they are too large, sparing the most recent one. Entries still
// loading are never dropped, so that concurrent callers share one load.
func (c *datasetCache) evict() {
	for el := c.recency.Back(); el != nil && el != c.recency.Front(); {
		if c.recency.Len() <= c.maxEntries && c.bytes <= c.maxBytes {
			return
		}
		prev := el.Prev()
		if el.Value.(*cacheEntry).done {
			c.remove(el)
		}
		el = prev
	}
}

func (c *datasetCache) remove(el *list.Element) {
	e := el.Value.(*cacheEntry)
	if cur, ok := c.entries[e.key]; ok && cur == el {
		delete(c.entries, e.key)
	}
	c.recency.Remove(el)
	c.bytes -= e.bytes
}

// size returns the number of entries, loaded or loading.
func (c *datasetCache) size() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.recency.Len()
}

// datasetBytes returns the size of d's slices.
func datasetBytes(d *Dataset) int64 {
	n := int64(0)
	for _, s := range []*Split{&d.Train, &d.Val, &d.Test} {
		n += int64(4*len(s.Offsets) + 2*len(s.Times) + 2*len(s.Units) + len(s.Labels))
	}
	return n
}
