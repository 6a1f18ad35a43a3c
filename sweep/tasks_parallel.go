package sweep

import "iter"

// parallelBatch is the number of grid points a worker of TasksParallel
// builds at a time.
const parallelBatch = 256

// TasksParallel yields the same sequence as Tasks, but builds the tasks
// (resolve, validate, canonicalise, hash: most of the cost of planning a
// large sweep) on up to workers goroutines, in batches of parallelBatch,
// and yields them in order. At most about 3·workers batches are in flight.
// Stopping the range stops the workers. workers ≤ 1 is Tasks.
func (s *Spec) TasksParallel(workers int) iter.Seq2[Task, error] {
	if workers <= 1 {
		return s.Tasks()
	}
	return func(yield func(Task, error) bool) {
		if s.canonical == nil {
			yield(Task{}, errNotParsed)
			return
		}
		type batch struct {
			first  int     // ordinal of points[0]
			points [][]int // grid indices
			tasks  []Task
			err    error // of the task after tasks, if any
			done   chan struct{}
		}
		stop := make(chan struct{})
		defer close(stop)
		work := make(chan *batch)
		order := make(chan *batch, 2*workers)
		for range workers {
			go func() {
				for b := range work {
					for i, idx := range b.points {
						t, err := s.task(b.first+i, idx)
						if err != nil {
							b.err = err
							break
						}
						b.tasks = append(b.tasks, t)
					}
					close(b.done)
				}
			}()
		}
		go func() {
			defer close(order)
			defer close(work)
			n := 0
			b := &batch{done: make(chan struct{})}
			send := func() bool {
				for _, ch := range []chan *batch{order, work} {
					select {
					case ch <- b:
					case <-stop:
						return false
					}
				}
				n += len(b.points)
				b = &batch{first: n, done: make(chan struct{})}
				return true
			}
			ok := true
			s.eachTask(func(idx []int) bool {
				b.points = append(b.points, append([]int(nil), idx...))
				if len(b.points) == parallelBatch {
					ok = send()
				}
				return ok
			})
			if ok && len(b.points) > 0 {
				send()
			}
		}()
		for b := range order {
			<-b.done
			for _, t := range b.tasks {
				if !yield(t, nil) {
					return
				}
			}
			if b.err != nil {
				yield(Task{}, b.err)
				return
			}
		}
	}
}
