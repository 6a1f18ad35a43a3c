package sweep

import (
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/sgsweep/sgsweep/sim"
)

// Task is one training run of a sweep.
type Task struct {
	// Ordinal is the task's 0-based position in grid order (see Expand).
	Ordinal int
	// ID is TaskID(Params): the task's identity in every sweep and store.
	ID string
	// Params is the canonical JSON of the fully resolved Config.
	Params json.RawMessage
	// Config is the resolved simulator configuration; it passes Validate.
	Config sim.Config
	// Point holds the values of the varying parameters of this task, one
	// per path of each axis, in axis order (see Spec.Axes).
	Point []Assignment
}

// Assignment is the value of one config path in a task.
type Assignment struct {
	Path string
	// Value is the canonical JSON of the field's value.
	Value json.RawMessage
}

// String renders the assignment as path=value (strings unquoted).
func (a Assignment) String() string { return a.Path + "=" + FormatValue(a.Value) }

// FormatValue renders a canonical JSON value for people: a string without
// quotes unless it is empty or has spaces, quotes, commas or brackets;
// anything else as its JSON.
func FormatValue(raw json.RawMessage) string {
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err == nil && s != "" && !strings.ContainsAny(s, " \t\n\"'=,[]{}") {
			return s
		}
	}
	return string(raw)
}

// shortValue is FormatValue cut to at most 60 bytes, for messages.
func shortValue(raw json.RawMessage) string {
	s := FormatValue(raw)
	if len(s) > 60 {
		cut := 57
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

// Expand returns the spec's tasks in grid order (see Tasks), all in
// memory: a convenience for small specs. Planning streams Tasks instead.
func (s *Spec) Expand() ([]Task, error) {
	if s.canonical == nil {
		return nil, errNotParsed
	}
	tasks := make([]Task, 0, s.count)
	for t, err := range s.Tasks() {
		if err != nil {
			return nil, err
		}
		tasks = append(tasks, t)
	}
	return tasks, nil
}

var errNotParsed = errors.New("expand: spec was not parsed (use Parse or ParseFile)")

// Tasks yields the spec's tasks in grid order, one at a time, holding only
// the task being yielded: nested loops over Axes(), the first axis
// outermost (slowest) and the last innermost, skipping excluded points.
// Replicate axes are outermost, so the whole grid runs once with the first
// seed before any cell gets its second, and raising the replicate count
// appends tasks without moving the existing ones; the other axes nest in
// the order they are written in the file. Reordering axes changes ordinals
// (and the fingerprint) but never a task ID.
//
// Each task's config is sim.DefaultConfig() deep-merged with base, then with
// the task's axis values. Every range over Tasks yields the same sequence
// (Ordinal 0, 1, …, Count()-1). An error is yielded once, with a zero
// Task, and ends the sequence: a spec that was not parsed, or a task that
// fails validation (a bug: Parse validated every task).
func (s *Spec) Tasks() iter.Seq2[Task, error] {
	return func(yield func(Task, error) bool) {
		if s.canonical == nil {
			yield(Task{}, errNotParsed)
			return
		}
		n := 0
		s.eachTask(func(idx []int) bool {
			t, err := s.task(n, idx)
			n++
			return yield(t, err) && err == nil
		})
	}
}

// task builds the task at grid point idx.
func (s *Spec) task(ordinal int, idx []int) (Task, error) {
	cfg := s.config(idx)
	cfg = deepCopy(reflect.ValueOf(cfg)).Interface().(sim.Config)
	if err := cfg.Validate(); err != nil {
		// Parse validated every task; this is a bug.
		return Task{}, fmt.Errorf("expand: task %d: %w", ordinal, err)
	}
	params, err := Canonical(cfg)
	if err != nil {
		return Task{}, fmt.Errorf("expand: task %d: %w", ordinal, err)
	}
	t := Task{Ordinal: ordinal, ID: taskIDOfCanonical(sim.ModelVersion, params), Params: params, Config: cfg}
	t.Point = make([]Assignment, 0, s.pathCount())
	for a, ax := range s.axes {
		for j, path := range ax.paths {
			t.Point = append(t.Point, Assignment{Path: path, Value: ax.raw[idx[a]][j]})
		}
	}
	return t, nil
}

// pathCount returns the number of paths the axes set.
func (s *Spec) pathCount() int {
	n := 0
	for _, ax := range s.axes {
		n += len(ax.paths)
	}
	return n
}

// config returns the (shallow) resolved config at grid point idx: slices
// may be shared with the spec.
func (s *Spec) config(idx []int) sim.Config {
	cfg := s.base
	rv := reflect.ValueOf(&cfg).Elem()
	for a, ax := range s.axes {
		for j := range ax.paths {
			rv.FieldByIndex(ax.index[j]).Set(ax.values[idx[a]][j])
		}
	}
	return cfg
}

// eachPoint calls fn with every grid point in order, excluded or not, until
// fn returns false. idx[a] is the point's index on axis a; fn must not keep
// idx.
func (s *Spec) eachPoint(fn func(idx []int) bool) {
	idx := make([]int, len(s.axes))
	for {
		if !fn(idx) {
			return
		}
		a := len(idx) - 1
		for ; a >= 0; a-- {
			idx[a]++
			if idx[a] < len(s.axes[a].values) {
				break
			}
			idx[a] = 0
		}
		if a < 0 {
			return
		}
	}
}

// eachTask calls fn with every grid point that no rule excludes.
func (s *Spec) eachTask(fn func(idx []int) bool) {
	s.eachPoint(func(idx []int) bool {
		for _, r := range s.rules {
			if r.matches(idx) {
				return true
			}
		}
		return fn(idx)
	})
}
