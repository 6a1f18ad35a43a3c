package results

import (
	"errors"
	"fmt"
	"iter"
	"math"
	"strconv"
	"strings"

	"github.com/sgsweep/sgsweep/protocol"
	"github.com/sgsweep/sgsweep/sim"
)

// topLevel yields the index of every byte of s that stands outside quotes
// ('…' or "…"), brackets and braces; the quote, bracket and brace
// characters themselves are not yielded.
func topLevel(s string) iter.Seq[int] {
	return func(yield func(int) bool) {
		depth := 0
		var quote byte
		for i := 0; i < len(s); i++ {
			c := s[i]
			switch {
			case quote != 0:
				if c == quote {
					quote = 0
				}
			case c == '\'' || c == '"':
				quote = c
			case c == '[' || c == '{':
				depth++
			case c == ']' || c == '}':
				depth--
			case depth == 0:
				if !yield(i) {
					return
				}
			}
		}
	}
}

// isBlank reports whether c is a space or a tab.
func isBlank(c byte) bool { return c == ' ' || c == '\t' }

// splitAnd splits a where string at the word "and" (any case, between
// spaces), outside brackets, braces and quotes.
func splitAnd(s string) []string {
	var parts []string
	start := 0
	for i := range topLevel(s) {
		if isBlank(s[i]) && i+4 < len(s) && strings.EqualFold(s[i+1:i+4], "and") && isBlank(s[i+4]) {
			parts = append(parts, s[start:i])
			start = i + 4
		}
	}
	parts = append(parts, s[start:])
	out := parts[:0]
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// splitTopLevel splits s at commas outside brackets, braces and quotes.
func splitTopLevel(s string) []string {
	var parts []string
	start := 0
	for i := range topLevel(s) {
		if s[i] == ',' {
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

// errClauseSyntax is the message for a clause of no known form.
var errClauseSyntax = errors.New("want field=value, field!=value, field in {a,b}, field<number (<, <=, >, >=) or lo<=field<=hi")

// parseClause parses one condition; a range gives two clauses.
func parseClause(text string, epoch int) ([]clause, error) {
	if name, op, set, ok := cutSet(text); ok {
		f, err := resolveField(name, epoch, false)
		if err != nil {
			return nil, err
		}
		c := clause{text: text, field: f, op: op}
		for _, item := range splitTopLevel(set) {
			if strings.TrimSpace(item) == "" {
				continue
			}
			v, err := operand(&f, item)
			if err != nil {
				return nil, err
			}
			c.vals = append(c.vals, v)
		}
		if len(c.vals) == 0 {
			return nil, fmt.Errorf("empty set")
		}
		return []clause{c}, nil
	}
	lhs, op, rest, ok := cutOperator(text)
	if !ok {
		return nil, errClauseSyntax
	}
	if mid, op2, rhs, ok := cutOperator(rest); ok {
		return parseRange(text, lhs, op, mid, op2, rhs, epoch)
	}
	f, err := resolveField(lhs, epoch, false)
	if err != nil {
		return nil, err
	}
	c := clause{text: text, field: f, op: op}
	switch op {
	case "=", "!=":
		v, err := operand(&f, rest)
		if err != nil {
			return nil, err
		}
		c.vals = []Value{v}
	default:
		if c.num, err = numericOperand(&f, rest); err != nil {
			return nil, err
		}
	}
	return []clause{c}, nil
}

// parseRange parses lo<=field<=hi (or with <, or both reversed with >).
func parseRange(text, lhs, op1, mid, op2, rhs string, epoch int) ([]clause, error) {
	ascending := strings.HasPrefix(op1, "<") && strings.HasPrefix(op2, "<")
	descending := strings.HasPrefix(op1, ">") && strings.HasPrefix(op2, ">")
	if !ascending && !descending {
		return nil, fmt.Errorf("a range needs two < or two > operators, like 0.1<=surrogate.scale<=10")
	}
	f, err := resolveField(mid, epoch, false)
	if err != nil {
		return nil, err
	}
	a, err := numericOperand(&f, lhs)
	if err != nil {
		return nil, err
	}
	b, err := numericOperand(&f, rhs)
	if err != nil {
		return nil, err
	}
	// lo op1 field op2 hi  ⇔  field mirror(op1) lo  and  field op2 hi.
	return []clause{
		{text: text, field: f, op: mirror(op1), num: a},
		{text: text, field: f, op: op2, num: b},
	}, nil
}

// mirror returns the operator with its sides swapped (a<b ⇔ b>a).
func mirror(op string) string {
	switch op {
	case "<":
		return ">"
	case "<=":
		return ">="
	case ">":
		return "<"
	case ">=":
		return "<="
	}
	return op
}

// cutSet recognises "name in {a,b}" and "name not in {a,b}".
func cutSet(text string) (name, op, set string, ok bool) {
	t := strings.TrimSpace(text)
	if !strings.HasSuffix(t, "}") {
		return "", "", "", false
	}
	open := strings.IndexByte(t, '{')
	if open < 0 {
		return "", "", "", false
	}
	head := strings.Fields(t[:open])
	n := len(head)
	switch {
	case n >= 3 && strings.EqualFold(head[n-2], "not") && strings.EqualFold(head[n-1], "in"):
		return strings.Join(head[:n-2], " "), "not in", t[open+1 : len(t)-1], true
	case n >= 2 && strings.EqualFold(head[n-1], "in"):
		return strings.Join(head[:n-1], " "), "in", t[open+1 : len(t)-1], true
	}
	return "", "", "", false
}

// cutOperator finds the first comparison operator outside quotes and
// brackets and returns the trimmed sides.
func cutOperator(s string) (lhs, op, rhs string, ok bool) {
	for i := range topLevel(s) {
		c := s[i]
		two := ""
		if i+1 < len(s) {
			two = s[i : i+2]
		}
		switch {
		case two == "<=" || two == ">=" || two == "!=" || two == "==":
			op = two
			if op == "==" {
				op = "="
			}
			return strings.TrimSpace(s[:i]), op, strings.TrimSpace(s[i+2:]), true
		case c == '<' || c == '>' || c == '=':
			return strings.TrimSpace(s[:i]), string(c), strings.TrimSpace(s[i+1:]), true
		}
	}
	return "", "", "", false
}

// kindOf returns the kind of value a field holds.
func kindOf(f *field) ValueKind {
	switch f.kind {
	case fieldParam:
		return params().kinds[f.param]
	case fieldState, fieldStatus, fieldHost:
		return KindString
	}
	return KindNumber
}

// operand converts a literal to the field's kind, so that a clause can
// never compare a string with a number by accident.
func operand(f *field, lit string) (Value, error) {
	lit = strings.TrimSpace(lit)
	if lit == "" {
		return Value{}, fmt.Errorf("%s: missing value", f.name)
	}
	v := parseLiteral(lit)
	switch kindOf(f) {
	case KindNumber:
		if v.Kind != KindNumber {
			return Value{}, fmt.Errorf("%s is a number, got %q", f.name, lit)
		}
	case KindBool:
		if v.Kind != KindBool {
			return Value{}, fmt.Errorf("%s is true or false, got %q", f.name, lit)
		}
	case KindList:
		if v.Kind != KindList {
			return Value{}, fmt.Errorf("%s is a list like [100,100], got %q", f.name, lit)
		}
	case KindString:
		if v.Kind != KindString {
			v = String(strings.Trim(lit, `'"`))
		}
		if err := checkEnum(f, v.Text); err != nil {
			return Value{}, err
		}
	}
	return v, nil
}

// checkEnum refuses values that a field can never take, for the fields
// whose values are a known set.
func checkEnum(f *field, s string) error {
	var allowed []string
	switch {
	case f.kind == fieldState:
		allowed = []string{StatePending, StateDone, StateStopped, StateFailed}
	case f.kind == fieldStatus:
		allowed = []string{protocol.StatusOK, protocol.StatusDiverged, protocol.StatusStopped, protocol.StatusFailed, StatePending}
	case f.kind == fieldParam && f.name == "surrogate.shape":
		allowed = sim.SurrogateNames()
	default:
		return nil
	}
	for _, a := range allowed {
		if s == a {
			return nil
		}
	}
	return fmt.Errorf("%s: %q is not one of %s", f.name, s, strings.Join(allowed, ", "))
}

// numericOperand reads the number of a <, <=, > or >= clause.
func numericOperand(f *field, lit string) (float64, error) {
	if kindOf(f) != KindNumber {
		return 0, fmt.Errorf("%s is not a number: use = or in {…}", f.name)
	}
	x, err := strconv.ParseFloat(strings.TrimSpace(lit), 64)
	if err != nil || math.IsNaN(x) {
		return 0, fmt.Errorf("%s: want a number, got %q", f.name, strings.TrimSpace(lit))
	}
	return x, nil
}

// valuesMatch is equality for filters: numbers within a relative 1e-12.
func valuesMatch(v, w Value) bool {
	if v.Kind == KindNumber && w.Kind == KindNumber {
		d := math.Abs(v.Num - w.Num)
		return d == 0 || d <= 1e-12*math.Max(math.Abs(v.Num), math.Abs(w.Num))
	}
	return v.Equal(w)
}
