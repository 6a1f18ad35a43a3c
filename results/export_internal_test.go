package results

// Internals that the external tests (package results_test) check directly:
// the test binary alone sees these names.
var (
	NewFlattener      = newFlattener
	TQuantile         = tQuantile
	NewTaskView       = newTaskView
	SplitAnd          = splitAnd
	ProvenanceColumns = provenanceColumns
	AppendCSVField    = appendCSVField
)

func (t *taskView) Reset(rec *Record) { t.reset(rec) }

func (f *Filter) Match(t *taskView, metrics bool) (bool, error) { return f.match(t, metrics) }

func (f *Filter) HasMetricClauses() bool { return f.hasMetricClauses() }

func (f *flattener) Flatten(raw []byte, dst []Value) error { return f.flatten(raw, dst) }

// Paths is the parameter schema's paths, in the order of a flattened row.
func (f *flattener) Paths() []string { return f.schema.paths }

// Index is the position of a parameter path in a flattened row.
func (f *flattener) Index(path string) (int, bool) {
	i, ok := f.schema.index[path]
	return i, ok
}

// Unknown counts the flattened leaves whose path is not in the schema.
func (f *flattener) Unknown() map[string]int { return f.unknown }

func (t *Table) Column(name string) (int, error) { return t.column(name) }
