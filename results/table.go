package results

import (
	"fmt"
	"slices"
	"strings"
)

// Column describes one column of a Table.
type Column struct {
	// Name is the column's header: a grouping key's name
	// (surrogate.shape), a group count (expected), or metric.aggregate
	// (test_acc.mean, val_acc@10.ci95_lo, test_acc.p).
	Name string `json:"name"`
	// Key is set on grouping-key columns: the parameter path or task field.
	Key string `json:"key,omitempty"`
	// Metric is set on aggregate columns: the metric (val_acc@3 for one
	// epoch of a curve).
	Metric string `json:"metric,omitempty"`
	// Agg is the aggregate (n, mean, sd, sem, ci95_lo, ci95_hi, median, min,
	// max, values, pairs, diff, diff_ci95_lo, diff_ci95_hi, p) or group
	// count (expected, done, failed, pending, diverged, stopped).
	Agg string `json:"agg,omitempty"`
	// Epoch is the 1-based epoch of a curve column; 0 for final metrics.
	Epoch int `json:"epoch,omitempty"`
}

// isCount reports whether the column holds integer counts.
func (c *Column) isCount() bool {
	switch c.Agg {
	case "n", "expected", "done", "failed", "pending", "diverged", "stopped", "pairs":
		return true
	}
	return false
}

// Table is the result of a query: one row per group, in the order the
// groups first appear in the sweep's grid (unless sorted), and notes that
// say what was counted, excluded or pooled. It is JSON-serialisable as is
// (the coordinator's results endpoint sends it over NATS).
type Table struct {
	Columns []Column  `json:"columns"`
	Rows    [][]Value `json:"rows"`
	Notes   []string  `json:"notes,omitempty"`
}

// ColumnIndex returns the index of the named column, or -1.
func (t *Table) ColumnIndex(name string) int {
	return slices.IndexFunc(t.Columns, func(c Column) bool { return c.Name == name })
}

// KeyColumns returns the indices of the grouping-key columns.
func (t *Table) KeyColumns() []int {
	var idx []int
	for i, c := range t.Columns {
		if c.Key != "" {
			idx = append(idx, i)
		}
	}
	return idx
}

// column returns the index of the named column or an error listing the
// table's columns.
func (t *Table) column(name string) (int, error) {
	if i := t.ColumnIndex(name); i >= 0 {
		return i, nil
	}
	names := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		names[i] = c.Name
	}
	return -1, fmt.Errorf("no column %q; columns: %s", name, strings.Join(names, ", "))
}

// KeyText renders the grouping keys of row r as "path=value, …".
func (t *Table) KeyText(r int) string {
	var parts []string
	for _, i := range t.KeyColumns() {
		parts = append(parts, t.Columns[i].Name+"="+t.Rows[r][i].String())
	}
	if len(parts) == 0 {
		return "all tasks"
	}
	return strings.Join(parts, ", ")
}
