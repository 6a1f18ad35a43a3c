package store

import (
	"bufio"
	"cmp"
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// planRunBytes bounds the task IDs and params a plan holds in memory while
// it sorts them by ID: a run of that many bytes is sorted and spilled to a
// temporary file, and the runs are merged. Sorting is what makes planning
// a million tasks fast: inserting task IDs (random hashes) in plan order
// dirties about one page of tasks/, params/ and the staged IDs per task in
// every transaction, so that a million-task plan rewrote the same pages
// over and over (≈ 12 GB written, 284 s); inserted in ID order, each
// transaction appends to a few contiguous pages.
var planRunBytes = 8 << 20 // a variable for tests

// sortedTask is a planned task with its ordinal, as the ID-ordered phase
// of staging reads it.
type sortedTask struct {
	PlanTask
	ordinal uint64
}

// planSorter sorts a plan's tasks by ID with bounded memory: add buffers
// tasks up to planRunBytes, then sorts them and appends them as a run to
// an unlinked temporary file; merge yields every task in ID order (equal
// IDs in ordinal order). The temporary file is in the store's directory
// and removed as soon as it is created, so that nothing is left behind
// even by a crash.
type planSorter struct {
	dir string
	// runBytes is the size of a run (planRunBytes; less in tests).
	runBytes int
	file     *os.File
	buf      []sortedTask
	bytes    int
	// runs are the [start, end) byte ranges of the spilled runs.
	runs [][2]int64
	end  int64
	w    *bufio.Writer
}

func newPlanSorter(dir string) *planSorter { return &planSorter{dir: dir, runBytes: planRunBytes} }

// add buffers one task (keeping its Params: the caller must not reuse it).
func (s *planSorter) add(t PlanTask, ordinal uint64) error {
	s.buf = append(s.buf, sortedTask{t, ordinal})
	s.bytes += len(t.ID) + len(t.Params) + 48
	if s.bytes >= s.runBytes {
		return s.spill()
	}
	return nil
}

func compareSorted(a, b sortedTask) int {
	if c := strings.Compare(a.ID, b.ID); c != 0 {
		return c
	}
	return cmp.Compare(a.ordinal, b.ordinal)
}

// spill sorts the buffered tasks and appends them to the file as a run.
func (s *planSorter) spill() error {
	if len(s.buf) == 0 {
		return nil
	}
	if s.file == nil {
		f, err := os.CreateTemp(s.dir, ".plan-sort-*")
		if err != nil {
			return fmt.Errorf("sort the plan: %w", err)
		}
		os.Remove(f.Name()) // unlinked: gone with the last descriptor
		s.file, s.w = f, bufio.NewWriterSize(f, 1<<16)
	}
	slices.SortFunc(s.buf, compareSorted)
	start := s.end
	var hdr [3 * binary.MaxVarintLen64]byte
	for i := range s.buf {
		t := &s.buf[i]
		n := binary.PutUvarint(hdr[:], t.ordinal)
		n += binary.PutUvarint(hdr[n:], uint64(len(t.ID)))
		n += binary.PutUvarint(hdr[n:], uint64(len(t.Params)))
		s.w.Write(hdr[:n])
		s.w.WriteString(t.ID)
		s.w.Write(t.Params)
		s.end += int64(n + len(t.ID) + len(t.Params))
		s.buf[i] = sortedTask{} // release the params
	}
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("sort the plan: %w", err)
	}
	s.runs = append(s.runs, [2]int64{start, s.end})
	s.buf, s.bytes = s.buf[:0], 0
	return nil
}

// close removes the temporary file.
func (s *planSorter) close() {
	if s.file != nil {
		s.file.Close()
	}
}

// merge calls fn with every added task in ID order (equal IDs in ordinal
// order). The task's ID and Params are only valid during the call. Tasks
// still buffered are merged from memory when nothing was spilled.
func (s *planSorter) merge(fn func(*sortedTask) error) error {
	if len(s.runs) == 0 {
		slices.SortFunc(s.buf, compareSorted)
		for i := range s.buf {
			if err := fn(&s.buf[i]); err != nil {
				return err
			}
		}
		return nil
	}
	if err := s.spill(); err != nil {
		return err
	}
	h := make(runHeap, 0, len(s.runs))
	for _, r := range s.runs {
		rr := &runReader{r: bufio.NewReaderSize(io.NewSectionReader(s.file, r[0], r[1]-r[0]), 1<<15)}
		if ok, err := rr.next(); err != nil {
			return err
		} else if ok {
			h = append(h, rr)
		}
	}
	heap.Init(&h)
	for len(h) > 0 {
		rr := h[0]
		if err := fn(&rr.cur); err != nil {
			return err
		}
		ok, err := rr.next()
		if err != nil {
			return err
		}
		if ok {
			heap.Fix(&h, 0)
		} else {
			heap.Pop(&h)
		}
	}
	return nil
}

// runReader reads one spilled run.
type runReader struct {
	r    *bufio.Reader
	cur  sortedTask
	data []byte
}

// next reads the run's next task into cur; false at the run's end.
func (r *runReader) next() (bool, error) {
	ordinal, err := binary.ReadUvarint(r.r)
	if errors.Is(err, io.EOF) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("sort the plan: read a run: %w", err)
	}
	idLen, err := binary.ReadUvarint(r.r)
	if err != nil {
		return false, fmt.Errorf("sort the plan: read a run: %w", err)
	}
	pLen, err := binary.ReadUvarint(r.r)
	if err != nil {
		return false, fmt.Errorf("sort the plan: read a run: %w", err)
	}
	r.data = slices.Grow(r.data[:0], int(idLen+pLen))[:idLen+pLen]
	if _, err := io.ReadFull(r.r, r.data); err != nil {
		return false, fmt.Errorf("sort the plan: read a run: %w", err)
	}
	r.cur = sortedTask{PlanTask{ID: string(r.data[:idLen]), Params: r.data[idLen:]}, ordinal}
	return true, nil
}

// runHeap orders run readers by their current task.
type runHeap []*runReader

func (h runHeap) Len() int           { return len(h) }
func (h runHeap) Less(i, j int) bool { return compareSorted(h[i].cur, h[j].cur) < 0 }
func (h runHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *runHeap) Push(x any)        { *h = append(*h, x.(*runReader)) }
func (h *runHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
