package results

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ValueKind says what a Value holds.
type ValueKind uint8

// Value kinds.
const (
	KindNone   ValueKind = iota // nothing: a missing metric, an undefined statistic
	KindNumber                  // Num
	KindString                  // Text
	KindBool                    // Text is "true" or "false", Num is 1 or 0
	KindList                    // Text is the list's compact JSON, e.g. [100,100]
)

// Value is one parameter, metric or statistic: a number, a string, a
// boolean, a list (kept as its compact JSON) or nothing. It is the cell type
// of a Table. The zero Value is nothing.
type Value struct {
	Kind ValueKind
	Num  float64
	Text string
}

// Number returns a number Value; NaN and ±Inf give nothing, so that an
// undefined statistic is an empty cell everywhere (JSON null, empty CSV).
func Number(x float64) Value {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return Value{}
	}
	return Value{Kind: KindNumber, Num: x}
}

// String returns a string Value.
func String(s string) Value { return Value{Kind: KindString, Text: s} }

// Bool returns a boolean Value.
func Bool(b bool) Value {
	if b {
		return Value{Kind: KindBool, Num: 1, Text: "true"}
	}
	return Value{Kind: KindBool, Text: "false"}
}

// IsNone reports whether v holds nothing.
func (v Value) IsNone() bool { return v.Kind == KindNone }

// String renders v with full precision: a number in its shortest
// round-trip form, anything else as its text; nothing is "".
func (v Value) String() string {
	if v.Kind == KindNumber {
		return strconv.FormatFloat(v.Num, 'g', -1, 64)
	}
	return v.Text
}

// Equal reports whether v and w are the same value: numbers compare by
// value, everything else by kind and text.
func (v Value) Equal(w Value) bool {
	if v.Kind != w.Kind {
		return false
	}
	if v.Kind == KindNumber {
		return v.Num == w.Num
	}
	return v.Text == w.Text
}

// Compare orders values: numbers by value, texts lexically, numbers before
// texts, and nothing after everything else. It returns -1, 0 or +1.
func Compare(a, b Value) int {
	switch {
	case a.Kind == KindNone || b.Kind == KindNone:
		return cmpBool(a.Kind == KindNone, b.Kind == KindNone)
	case a.Kind == KindNumber && b.Kind == KindNumber:
		switch {
		case a.Num < b.Num:
			return -1
		case a.Num > b.Num:
			return 1
		}
		return 0
	case a.Kind == KindNumber || b.Kind == KindNumber:
		return cmpBool(b.Kind == KindNumber, a.Kind == KindNumber)
	}
	return strings.Compare(a.Text, b.Text)
}

// cmpBool orders false before true.
func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// MarshalJSON encodes a number as a JSON number, a string as a string, a
// boolean as a boolean, a list as its JSON array, and nothing as null.
func (v Value) MarshalJSON() ([]byte, error) {
	return v.appendJSON(nil), nil
}

// appendJSON appends v's JSON encoding to dst.
func (v Value) appendJSON(dst []byte) []byte {
	switch v.Kind {
	case KindNumber:
		return appendJSONNumber(dst, v.Num)
	case KindString:
		return appendJSONString(dst, v.Text)
	case KindBool, KindList:
		return append(dst, v.Text...)
	}
	return append(dst, "null"...)
}

// appendJSONString appends s as a JSON string.
func appendJSONString(dst []byte, s string) []byte {
	plain := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			plain = false
			break
		}
	}
	if plain {
		dst = append(dst, '"')
		dst = append(dst, s...)
		return append(dst, '"')
	}
	b, _ := json.Marshal(s) // a string always encodes
	return append(dst, b...)
}

// appendJSONNumber appends x in the shortest form that reads back to the
// same float64 and is valid JSON (no "+Inf", no leading "+" in exponents is
// needed: 'g' gives "1e-05", which JSON accepts).
func appendJSONNumber(dst []byte, x float64) []byte {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return append(dst, "null"...)
	}
	return strconv.AppendFloat(dst, x, 'g', -1, 64)
}

// UnmarshalJSON is the inverse of MarshalJSON.
func (v *Value) UnmarshalJSON(data []byte) error {
	val, err := valueFromJSON(data)
	if err != nil {
		return err
	}
	*v = val
	return nil
}

// valueFromJSON converts one JSON scalar or array into a Value. Objects are
// refused: parameters are flattened to their leaves first.
func valueFromJSON(raw []byte) (Value, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return Value{}, fmt.Errorf("empty JSON value")
	}
	switch raw[0] {
	case 'n':
		if string(raw) == "null" {
			return Value{}, nil
		}
	case 't', 'f':
		switch string(raw) {
		case "true":
			return Bool(true), nil
		case "false":
			return Bool(false), nil
		}
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return Value{}, fmt.Errorf("JSON string %s: %w", raw, err)
		}
		return String(s), nil
	case '[':
		var buf bytes.Buffer
		if err := json.Compact(&buf, raw); err != nil {
			return Value{}, fmt.Errorf("JSON list %s: %w", raw, err)
		}
		return Value{Kind: KindList, Text: buf.String()}, nil
	case '{':
		return Value{}, fmt.Errorf("JSON object %.40s… is not a single value", raw)
	default:
		x, err := strconv.ParseFloat(string(raw), 64)
		if err != nil {
			return Value{}, fmt.Errorf("JSON number %s: %w", raw, err)
		}
		return Number(x), nil
	}
	return Value{}, fmt.Errorf("invalid JSON value %.40s", raw)
}

// parseLiteral reads a value typed on the command line (a --where operand):
// a number if it parses as one, true/false, a list in brackets, otherwise a
// string, with optional single or double quotes removed.
func parseLiteral(s string) Value {
	s = strings.TrimSpace(s)
	if n := len(s); n >= 2 && (s[0] == '\'' || s[0] == '"') && s[n-1] == s[0] {
		return String(s[1 : n-1])
	}
	if x, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(x) && !math.IsInf(x, 0) {
		return Number(x)
	}
	switch s {
	case "true":
		return Bool(true)
	case "false":
		return Bool(false)
	}
	if strings.HasPrefix(s, "[") {
		if v, err := valueFromJSON([]byte(s)); err == nil {
			return v
		}
	}
	return String(s)
}
