package results

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// Filter is a conjunction of conditions on parameters, task fields and
// metrics, parsed from --where clauses. Forms, for any parameter path, task
// field (state, status, host) or metric:
//
//	surrogate.shape=superspike         equality (also ==, and != for inequality)
//	surrogate.shape in {sigmoid,esser} a set (also "not in")
//	train.lr<=0.01                     a numeric comparison (<, <=, >, >=)
//	0.1<=surrogate.scale<=10           a numeric range (or 10>=surrogate.scale>0.1)
//	test_acc>0.5 and status=ok         clauses joined with "and"
//
// Numbers compare by value with a relative tolerance of 1e-12, so that 0.1,
// 1e-1 and a computed 0.1000000000000001 are equal; strings compare
// exactly; lists by their compact JSON ([100,100]). A clause on a metric is
// false for a task without that metric (pending, failed, or a run that did
// not reach the epoch).
type Filter struct {
	clauses []clause
}

// clause is one condition.
type clause struct {
	text  string
	field field
	op    string  // =, !=, <, <=, >, >=, in, not in
	vals  []Value // the operands of =, != and the sets
	num   float64 // the operand of <, <=, >, >=
	// a range is two numeric clauses on the same field; see parseClause.
}

// ParseFilter parses --where clauses; every one must hold. epoch, if
// positive, makes bare curve names mean their value at that epoch.
func ParseFilter(where []string, epoch int) (*Filter, error) {
	f := &Filter{}
	for _, w := range where {
		for _, text := range splitAnd(w) {
			cs, err := parseClause(text, epoch)
			if err != nil {
				return nil, fmt.Errorf("where %q: %w", text, err)
			}
			f.clauses = append(f.clauses, cs...)
		}
	}
	return f, nil
}

// Empty reports whether the filter lets every task through.
func (f *Filter) Empty() bool { return f == nil || len(f.clauses) == 0 }

// String returns the clauses joined with "and".
func (f *Filter) String() string {
	var parts []string
	for _, c := range f.clauses {
		if len(parts) == 0 || parts[len(parts)-1] != c.text {
			parts = append(parts, c.text)
		}
	}
	return strings.Join(parts, " and ")
}

// hasMetricClauses reports whether some clause tests a metric.
func (f *Filter) hasMetricClauses() bool {
	for i := range f.clauses {
		if f.clauses[i].field.isMetric() {
			return true
		}
	}
	return false
}

// match reports whether the task passes the clauses on planned-task
// properties (metrics false) or on metrics (metrics true).
func (f *Filter) match(t *taskView, metrics bool) (bool, error) {
	if f == nil {
		return true, nil
	}
	for i := range f.clauses {
		c := &f.clauses[i]
		if c.field.isMetric() != metrics {
			continue
		}
		v, err := t.value(&c.field)
		if err != nil {
			return false, err
		}
		if !c.holds(v) {
			return false, nil
		}
	}
	return true, nil
}

// holds evaluates the clause on one value.
func (c *clause) holds(v Value) bool {
	if v.Kind == KindNone || (v.Kind == KindNumber && math.IsNaN(v.Num)) {
		// A task without the value: no metric clause holds; a parameter
		// the task lacks is different from every operand.
		return !c.field.isMetric() && (c.op == "!=" || c.op == "not in")
	}
	switch c.op {
	case "=":
		return valuesMatch(v, c.vals[0])
	case "!=":
		return !valuesMatch(v, c.vals[0])
	case "in", "not in":
		found := slices.ContainsFunc(c.vals, func(w Value) bool { return valuesMatch(v, w) })
		return found == (c.op == "in")
	}
	if v.Kind != KindNumber {
		return false
	}
	switch c.op {
	case "<":
		return v.Num < c.num
	case "<=":
		return v.Num <= c.num
	case ">":
		return v.Num > c.num
	case ">=":
		return v.Num >= c.num
	}
	return false
}
