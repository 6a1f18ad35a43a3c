package results

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"

	"github.com/sgsweep/sgsweep/sim"
)

// DepthParam is a derived parameter: the number of hidden layers, the length
// of network.hidden. It can be grouped, filtered and plotted like any other
// parameter path.
const DepthParam = "network.depth"

// paramSchema lists the parameter paths of sim.Config: the dotted JSON paths
// of its leaves, in the order of its JSON encoding, with each one's kind as
// found in sim.DefaultConfig, plus the derived DepthParam right after
// network.hidden.
type paramSchema struct {
	paths []string
	kinds []ValueKind
	index map[string]int
	// hidden and depth are the indices of network.hidden and DepthParam.
	hidden, depth int
	// seeds are the indices of the replicate axes, seed and data_seed: the
	// parameters that a default grouping aggregates over.
	seeds []int
	// defaults are the parameters a configuration's JSON leaves out at
	// their default value (see omittedDefaults), by index: absent, they
	// read as that value.
	defaults map[int]Value
}

// omittedDefaults are the parameters that sim.Config's JSON leaves out at
// their default, with that default: numerics, so that float64 task IDs
// are those from before the field existed (sim.Numerics.IsZero).
var omittedDefaults = map[string]Value{"numerics": String(string(sim.NumericsFloat64))}

// params returns the schema of sim.Config's parameters, built once.
var params = sync.OnceValue(func() *paramSchema {
	raw, err := json.Marshal(sim.DefaultConfig())
	if err != nil {
		panic("results: encode sim.DefaultConfig: " + err.Error())
	}
	s := &paramSchema{index: map[string]int{}}
	err = scanLeaves(raw, make([]byte, 0, 64), func(path, leaf []byte) error {
		v, err := valueFromJSON(leaf)
		if err != nil {
			return err
		}
		s.add(string(path), v.Kind)
		if string(path) == "network.hidden" {
			s.add(DepthParam, KindNumber)
		}
		return nil
	})
	if err != nil {
		panic("results: flatten sim.DefaultConfig: " + err.Error())
	}
	s.defaults = map[int]Value{}
	for path, v := range omittedDefaults {
		if _, ok := s.index[path]; !ok {
			s.add(path, v.Kind)
		}
		s.defaults[s.index[path]] = v
	}
	s.hidden, s.depth = s.index["network.hidden"], s.index[DepthParam]
	s.seeds = []int{s.index["seed"], s.index["data_seed"]}
	return s
})

func (s *paramSchema) add(path string, kind ValueKind) {
	s.index[path] = len(s.paths)
	s.paths = append(s.paths, path)
	s.kinds = append(s.kinds, kind)
}

// isSeed reports whether parameter i is a replicate axis.
func (s *paramSchema) isSeed(i int) bool {
	for _, j := range s.seeds {
		if i == j {
			return true
		}
	}
	return false
}

// flattener turns a task's canonical parameter JSON into one Value per
// schema path. It reuses its buffers: one flattener serves a whole stream
// of records and allocates little per record.
type flattener struct {
	schema *paramSchema
	path   []byte
	// intern holds the strings seen so far (shapes, dataset names, …),
	// so that a repeated string costs no allocation.
	intern map[string]string
	// unknown counts leaves whose path is not in the schema (parameters
	// written by another version of sgsweep); they are skipped.
	unknown map[string]int
	// prev holds the previous record's leaves in order. The tasks of a
	// sweep share their paths and differ in a few values, so a leaf with
	// the previous record's path and bytes at its position takes their
	// schema index and Value without a lookup or a parse.
	prev []prevLeaf
}

// prevLeaf is one leaf of the previous record: its path and raw bytes,
// schema index (-1 if unknown) and value.
type prevLeaf struct {
	path, leaf []byte
	index      int
	value      Value
}

func newFlattener() *flattener {
	return &flattener{
		schema:  params(),
		path:    make([]byte, 0, 64),
		intern:  map[string]string{},
		unknown: map[string]int{},
	}
}

// flatten fills dst (len(schema.paths) values) from the parameter JSON.
// Paths absent from the JSON are left as nothing, but for the omitted
// defaults, which take their default.
func (f *flattener) flatten(raw []byte, dst []Value) error {
	clear(dst)
	k := 0
	err := scanLeaves(raw, f.path[:0], func(path, leaf []byte) error {
		if k == len(f.prev) {
			f.prev = append(f.prev, prevLeaf{index: -2})
		}
		p := &f.prev[k]
		k++
		if p.index == -2 || !bytes.Equal(path, p.path) {
			i, ok := f.schema.index[string(path)]
			if !ok {
				i = -1
			}
			p.path, p.index, p.leaf = append(p.path[:0], path...), i, p.leaf[:0]
		}
		if p.index < 0 {
			f.unknown[string(path)]++
			return nil
		}
		if p.leaf == nil || !bytes.Equal(leaf, p.leaf) {
			v, err := f.leafValue(leaf)
			if err != nil {
				p.index = -2 // parse it again next time
				return fmt.Errorf("%s: %w", path, err)
			}
			p.leaf, p.value = append(p.leaf[:0], leaf...), v
		}
		dst[p.index] = p.value
		return nil
	})
	if err != nil {
		return err
	}
	if h := dst[f.schema.hidden]; h.Kind == KindList {
		dst[f.schema.depth] = Number(float64(listLen(h.Text)))
	}
	for i, v := range f.schema.defaults {
		if dst[i].Kind == KindNone {
			dst[i] = v
		}
	}
	return nil
}

// leafValue is valueFromJSON with interned strings and lists and no
// allocation for numbers.
func (f *flattener) leafValue(leaf []byte) (Value, error) {
	if len(leaf) == 0 {
		return Value{}, fmt.Errorf("empty value")
	}
	switch c := leaf[0]; {
	case c == '-' || (c >= '0' && c <= '9'):
		x, err := strconv.ParseFloat(string(leaf), 64)
		if err != nil {
			return Value{}, fmt.Errorf("number %s: %w", leaf, err)
		}
		return Number(x), nil
	case c == '"' && bytes.IndexByte(leaf, '\\') < 0:
		return String(f.internString(leaf[1 : len(leaf)-1])), nil
	case c == '[' && bytes.IndexAny(leaf, " \t\r\n\"") < 0:
		return Value{Kind: KindList, Text: f.internString(leaf)}, nil
	}
	return valueFromJSON(leaf)
}

func (f *flattener) internString(b []byte) string {
	if s, ok := f.intern[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(f.intern) < 4096 {
		f.intern[s] = s
	}
	return s
}

// listLen counts the elements of a compact JSON list of scalars.
func listLen(list string) int {
	if len(list) <= 2 {
		return 0
	}
	n := 1
	depth := 0
	inString := false
	for i := 1; i < len(list)-1; i++ {
		switch c := list[i]; {
		case inString:
			if c == '\\' {
				i++
			} else if c == '"' {
				inString = false
			}
		case c == '"':
			inString = true
		case c == '[' || c == '{':
			depth++
		case c == ']' || c == '}':
			depth--
		case c == ',' && depth == 0:
			n++
		}
	}
	return n
}

// scanLeaves walks a JSON object and calls fn with the dotted path and the
// raw bytes of every leaf (every value that is not an object; lists are
// leaves). path is a scratch buffer; the slices passed to fn are only valid
// during the call.
func scanLeaves(data []byte, path []byte, fn func(path, leaf []byte) error) error {
	s := leafScanner{data: data, fn: fn}
	s.skipSpace()
	if err := s.object(path); err != nil {
		return err
	}
	s.skipSpace()
	if s.pos != len(s.data) {
		return s.errorf("trailing data")
	}
	return nil
}

// leafScanner is a minimal JSON reader: enough to split a well-formed
// object into leaves without decoding them.
type leafScanner struct {
	data []byte
	pos  int
	fn   func(path, leaf []byte) error
}

func (s *leafScanner) errorf(format string, args ...any) error {
	return fmt.Errorf("JSON at byte %d: %s", s.pos, fmt.Sprintf(format, args...))
}

func (s *leafScanner) skipSpace() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\r', '\n':
			s.pos++
		default:
			return
		}
	}
}

// object reads an object whose path is prefix.
func (s *leafScanner) object(prefix []byte) error {
	if s.pos >= len(s.data) || s.data[s.pos] != '{' {
		return s.errorf("want an object")
	}
	s.pos++
	s.skipSpace()
	if s.pos < len(s.data) && s.data[s.pos] == '}' {
		s.pos++
		return nil
	}
	for {
		s.skipSpace()
		start := s.pos
		if err := s.skipString(); err != nil {
			return err
		}
		key := s.data[start+1 : s.pos-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			return s.errorf("escaped object key %s", s.data[start:s.pos])
		}
		path := prefix
		if len(path) > 0 {
			path = append(path, '.')
		}
		path = append(path, key...)
		s.skipSpace()
		if s.pos >= len(s.data) || s.data[s.pos] != ':' {
			return s.errorf("want ':'")
		}
		s.pos++
		s.skipSpace()
		if s.pos < len(s.data) && s.data[s.pos] == '{' {
			if err := s.object(path); err != nil {
				return err
			}
		} else {
			start := s.pos
			if err := s.skipValue(); err != nil {
				return err
			}
			if err := s.fn(path, s.data[start:s.pos]); err != nil {
				return err
			}
		}
		s.skipSpace()
		if s.pos >= len(s.data) {
			return s.errorf("unterminated object")
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
		case '}':
			s.pos++
			return nil
		default:
			return s.errorf("want ',' or '}'")
		}
	}
}

// skipValue moves past one JSON value.
func (s *leafScanner) skipValue() error {
	if s.pos >= len(s.data) {
		return s.errorf("want a value")
	}
	switch s.data[s.pos] {
	case '"':
		return s.skipString()
	case '{', '[':
		depth := 0
		for s.pos < len(s.data) {
			switch s.data[s.pos] {
			case '"':
				if err := s.skipString(); err != nil {
					return err
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					s.pos++
					return nil
				}
			}
			s.pos++
		}
		return s.errorf("unterminated list")
	}
	start := s.pos
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ',', '}', ']', ' ', '\t', '\r', '\n':
			if s.pos == start {
				return s.errorf("want a value")
			}
			return nil
		}
		s.pos++
	}
	return nil
}

// skipString moves past a JSON string starting at pos.
func (s *leafScanner) skipString() error {
	if s.pos >= len(s.data) || s.data[s.pos] != '"' {
		return s.errorf("want a string")
	}
	for i := s.pos + 1; i < len(s.data); i++ {
		switch s.data[i] {
		case '\\':
			i++
		case '"':
			s.pos = i + 1
			return nil
		}
	}
	return s.errorf("unterminated string")
}
