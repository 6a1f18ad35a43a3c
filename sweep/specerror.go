package sweep

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/sgsweep/sgsweep/internal/suggest"
)

// SpecError is one problem in a sweep spec, located in its file.
type SpecError struct {
	// File is the spec's file name as given to Parse.
	File string
	// Line and Column are 1-based; 0 when the problem has no single place
	// (e.g. a value that comes from the simulator's defaults).
	Line, Column int
	// Field is the dotted path of the offending entry in the spec, e.g.
	// "grid.surrogate.scale", "base.train.epochs", "zip[0]", "exclude[1]".
	Field string
	// Msg says what is wrong and, where there is a choice, what is allowed.
	Msg string
}

// Error renders the error as "file:line: field: msg".
func (e *SpecError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// SpecErrors holds several problems of one spec, in file order.
type SpecErrors []*SpecError

// Error renders one error per line.
func (e *SpecErrors) Error() string {
	lines := make([]string, len(*e))
	for i, se := range *e {
		lines[i] = se.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the individual errors, so that errors.As finds the first
// *SpecError.
func (e *SpecErrors) Unwrap() []error {
	errs := make([]error, len(*e))
	for i, se := range *e {
		errs[i] = se
	}
	return errs
}

// maxSpecErrors bounds how many distinct problems Parse reports.
const maxSpecErrors = 50

// errorList collects the problems found while parsing one spec, without
// repeats.
type errorList struct {
	file string
	errs []*SpecError
	seen map[SpecError]bool
}

// add records a problem at pos (may be nil) unless it was recorded already.
func (l *errorList) add(pos position, field, format string, args ...any) {
	e := SpecError{File: l.file, Line: pos.line, Column: pos.col, Field: field, Msg: fmt.Sprintf(format, args...)}
	if l.seen == nil {
		l.seen = map[SpecError]bool{}
	}
	if l.seen[e] || len(l.errs) >= maxSpecErrors {
		return
	}
	l.seen[e] = true
	l.errs = append(l.errs, &e)
}

// full reports whether no more problems will be recorded.
func (l *errorList) full() bool { return len(l.errs) >= maxSpecErrors }

// err returns nil, the one *SpecError, or *SpecErrors sorted by place.
func (l *errorList) err() error {
	switch len(l.errs) {
	case 0:
		return nil
	case 1:
		return l.errs[0]
	}
	errs := SpecErrors(slices.Clone(l.errs))
	slices.SortStableFunc(errs, func(a, b *SpecError) int {
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return a.Column - b.Column
	})
	return &errs
}

// position is a place in the spec file; the zero value is "nowhere".
type position struct{ line, col int }

// didYouMean returns " (did you mean x?)" when one of the candidates is
// close to got, else "".
func didYouMean(got string, candidates []string) string {
	best := suggest.Nearest(got, candidates, min(len(got)/3+1, 3))
	if best == "" {
		return ""
	}
	return " (did you mean " + best + "?)"
}
