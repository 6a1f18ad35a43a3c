package sweep

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/sgsweep/sgsweep/sim"
)

// Canonical returns the canonical JSON encoding of v: the identity of a value,
// on which task IDs, result digests and spec fingerprints are computed. Two
// values with the same canonical JSON are the same value.
//
// v is first encoded with encoding/json (a json.RawMessage is taken as JSON
// text as it is), then rewritten as follows:
//   - object keys sorted by their UTF-8 bytes; a repeated key is an error;
//   - no whitespace;
//   - strings with the minimal escapes (", \ and control characters; \b, \f,
//     \n, \r, \t short forms, else \u00xx), everything else as raw UTF-8;
//     invalid UTF-8 and lone surrogates are errors;
//   - an integer literal that fits int64 or uint64 stays as written
//     ("-0" becomes "0");
//   - any other number is parsed as float64 and written as its shortest
//     round-trip decimal, in the format of encoding/json (ECMAScript's:
//     plain notation for 1e-6 ≤ |x| < 1e21, else exponent form like 1e+21 or
//     1e-7), so 1e-1, 0.1 and 0.10 are all 0.1, and 1.0 and 1e0 are 1;
//     -0 becomes 0;
//   - NaN and ±Inf (including literals that overflow float64) are errors.
//
// The encoding is idempotent: Canonical of a canonical text is the same text.
func Canonical(v any) ([]byte, error) {
	var src []byte
	switch v := v.(type) {
	case json.RawMessage:
		src = v
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("canonical JSON: %w", err)
		}
		src = b
	}
	return canonicalize(src)
}

// taskIDPrefix separates task-ID preimages from any other SHA-256 use.
const taskIDPrefix = "sgsweep-task\x00"

// TaskID returns the ID of the task with the given parameters (the JSON of a
// fully resolved sim.Config) under the simulator's current model version:
// the first 32 hex digits (128 bits) of
//
//	SHA-256("sgsweep-task\x00" + sim.ModelVersion + "\x00" + Canonical(params)).
//
// params need not be canonical already: semantically equal JSON texts have
// the same ID. TaskID returns "" when params is not valid canonicalizable
// JSON; "" is never the ID of a task.
func TaskID(params json.RawMessage) string {
	return TaskIDUnder(sim.ModelVersion, params)
}

// TaskIDUnder is TaskID under the given model version: a result message
// names the model version that computed it.
func TaskIDUnder(modelVersion string, params json.RawMessage) string {
	canon, err := canonicalize(params)
	if err != nil {
		return ""
	}
	return taskIDOfCanonical(modelVersion, canon)
}

// taskIDOfCanonical is TaskIDUnder for params already in canonical form.
func taskIDOfCanonical(modelVersion string, canon []byte) string {
	h := sha256.New()
	h.Write([]byte(taskIDPrefix))
	h.Write([]byte(modelVersion))
	h.Write([]byte{0})
	h.Write(canon)
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0])[:taskIDLen/2])
}

// taskIDLen is the length of a task ID in hex digits.
const taskIDLen = 32

// Digest returns the hex SHA-256 (64 digits) of Canonical(v). Result
// messages carry the digest of their sim.Result (of their error text when
// failed); two results of one task with different digests are a
// reproducibility conflict.
func Digest(v any) (string, error) {
	canon, err := Canonical(v)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(canon)
	return hex.EncodeToString(sum[:]), nil
}

// maxJSONDepth bounds the nesting of canonicalized JSON.
const maxJSONDepth = 1000

// canonicalize rewrites the JSON text src canonically (see Canonical).
func canonicalize(src []byte) ([]byte, error) {
	p := canonParser{src: src}
	p.skipSpace()
	out, err := p.value(make([]byte, 0, len(src)), 0)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos != len(p.src) {
		return nil, p.errorf("unexpected %q after the value", p.src[p.pos])
	}
	return out, nil
}

// canonParser is a strict recursive-descent JSON parser that writes the
// canonical form as it goes.
type canonParser struct {
	src []byte
	pos int
}

func (p *canonParser) errorf(format string, args ...any) error {
	return fmt.Errorf("canonical JSON: offset %d: %s", p.pos, fmt.Sprintf(format, args...))
}

func (p *canonParser) skipSpace() {
	for p.pos < len(p.src) {
		switch p.src[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// value parses one JSON value at p.pos (no leading space) and appends its
// canonical form to dst.
func (p *canonParser) value(dst []byte, depth int) ([]byte, error) {
	if depth > maxJSONDepth {
		return nil, p.errorf("nested deeper than %d", maxJSONDepth)
	}
	if p.pos >= len(p.src) {
		return nil, p.errorf("unexpected end of input")
	}
	switch c := p.src[p.pos]; {
	case c == '{':
		return p.object(dst, depth)
	case c == '[':
		return p.array(dst, depth)
	case c == '"':
		s, err := p.str()
		if err != nil {
			return nil, err
		}
		return appendCanonicalString(dst, s), nil
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number(dst)
	default:
		for _, lit := range []string{"true", "false", "null"} {
			if len(p.src)-p.pos >= len(lit) && string(p.src[p.pos:p.pos+len(lit)]) == lit {
				p.pos += len(lit)
				return append(dst, lit...), nil
			}
		}
		return nil, p.errorf("unexpected %q", c)
	}
}

func (p *canonParser) object(dst []byte, depth int) ([]byte, error) {
	// Each member's canonical value is written to vals; members are sorted
	// by key, then copied out.
	type member struct {
		key        []byte
		start, end int
	}
	var members []member
	var vals []byte
	p.pos++ // {
	p.skipSpace()
	if p.pos < len(p.src) && p.src[p.pos] == '}' {
		p.pos++
		return append(dst, "{}"...), nil
	}
	for {
		p.skipSpace()
		if p.pos >= len(p.src) || p.src[p.pos] != '"' {
			return nil, p.errorf("want an object key")
		}
		key, err := p.str()
		if err != nil {
			return nil, err
		}
		p.skipSpace()
		if p.pos >= len(p.src) || p.src[p.pos] != ':' {
			return nil, p.errorf("want ':' after object key")
		}
		p.pos++
		p.skipSpace()
		start := len(vals)
		if vals, err = p.value(vals, depth+1); err != nil {
			return nil, err
		}
		members = append(members, member{key, start, len(vals)})
		closed, err := p.separator('}', "object")
		if err != nil {
			return nil, err
		}
		if closed {
			break
		}
	}
	slices.SortFunc(members, func(a, b member) int { return bytes.Compare(a.key, b.key) })
	dst = append(dst, '{')
	for i, m := range members {
		if i > 0 {
			if bytes.Equal(members[i-1].key, m.key) {
				return nil, p.errorf("repeated object key %q", m.key)
			}
			dst = append(dst, ',')
		}
		dst = appendCanonicalString(dst, m.key)
		dst = append(dst, ':')
		dst = append(dst, vals[m.start:m.end]...)
	}
	return append(dst, '}'), nil
}

func (p *canonParser) array(dst []byte, depth int) ([]byte, error) {
	p.pos++ // [
	dst = append(dst, '[')
	p.skipSpace()
	if p.pos < len(p.src) && p.src[p.pos] == ']' {
		p.pos++
		return append(dst, ']'), nil
	}
	for first := true; ; first = false {
		if !first {
			dst = append(dst, ',')
		}
		p.skipSpace()
		var err error
		if dst, err = p.value(dst, depth+1); err != nil {
			return nil, err
		}
		closed, err := p.separator(']', "array")
		if err != nil {
			return nil, err
		}
		if closed {
			return append(dst, ']'), nil
		}
	}
}

// separator consumes the ',' or the closing bracket after a member of an
// object or an element of an array (what names which, for errors). It
// reports whether it was the closing bracket.
func (p *canonParser) separator(closing byte, what string) (closed bool, err error) {
	p.skipSpace()
	if p.pos >= len(p.src) {
		return false, p.errorf("unexpected end of input in %s", what)
	}
	c := p.src[p.pos]
	if c != ',' && c != closing {
		return false, p.errorf("want ',' or '%c' in %s", closing, what)
	}
	p.pos++
	return c == closing, nil
}

// str parses a JSON string literal at p.pos and returns its value. A
// string without escapes is returned as a slice of the source.
func (p *canonParser) str() ([]byte, error) {
	p.pos++ // opening quote
	start := p.pos
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		if c == '"' {
			if !utf8.Valid(p.src[start:p.pos]) {
				return nil, p.errorf("invalid UTF-8 in string")
			}
			p.pos++
			return p.src[start : p.pos-1], nil
		}
		if c == '\\' || c < 0x20 {
			break
		}
		p.pos++
	}
	// Slow path: escapes (or an error).
	b := append([]byte(nil), p.src[start:p.pos]...)
	if !utf8.Valid(b) {
		return nil, p.errorf("invalid UTF-8 in string")
	}
	for {
		if p.pos >= len(p.src) {
			return nil, p.errorf("unterminated string")
		}
		c := p.src[p.pos]
		switch {
		case c == '"':
			p.pos++
			return b, nil
		case c < 0x20:
			return nil, p.errorf("control character %#x in string", c)
		case c == '\\':
			r, err := p.escape()
			if err != nil {
				return nil, err
			}
			b = utf8.AppendRune(b, r)
		case c < utf8.RuneSelf:
			b = append(b, c)
			p.pos++
		default:
			r, size := utf8.DecodeRune(p.src[p.pos:])
			if r == utf8.RuneError && size == 1 {
				return nil, p.errorf("invalid UTF-8 in string")
			}
			b = append(b, p.src[p.pos:p.pos+size]...)
			p.pos += size
		}
	}
}

// escape parses the escape sequence at p.pos (at the backslash).
func (p *canonParser) escape() (rune, error) {
	if p.pos+1 >= len(p.src) {
		return 0, p.errorf("unterminated escape")
	}
	c := p.src[p.pos+1]
	p.pos += 2
	switch c {
	case '"', '\\', '/':
		return rune(c), nil
	case 'b':
		return '\b', nil
	case 'f':
		return '\f', nil
	case 'n':
		return '\n', nil
	case 'r':
		return '\r', nil
	case 't':
		return '\t', nil
	case 'u':
		r, err := p.hex4()
		if err != nil {
			return 0, err
		}
		if !utf16.IsSurrogate(r) {
			return r, nil
		}
		if r >= 0xdc00 || p.pos+1 >= len(p.src) || p.src[p.pos] != '\\' || p.src[p.pos+1] != 'u' {
			return 0, p.errorf("lone surrogate \\u%04x", r)
		}
		p.pos += 2
		r2, err := p.hex4()
		if err != nil {
			return 0, err
		}
		if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
			return dec, nil
		}
		return 0, p.errorf("invalid surrogate pair \\u%04x\\u%04x", r, r2)
	default:
		return 0, p.errorf("invalid escape \\%c", c)
	}
}

func (p *canonParser) hex4() (rune, error) {
	if p.pos+4 > len(p.src) {
		return 0, p.errorf("short \\u escape")
	}
	v, err := strconv.ParseUint(string(p.src[p.pos:p.pos+4]), 16, 16)
	if err != nil {
		return 0, p.errorf("invalid \\u escape %q", p.src[p.pos:p.pos+4])
	}
	p.pos += 4
	return rune(v), nil
}

// number parses a JSON number literal (strict grammar) and appends its
// canonical form.
func (p *canonParser) number(dst []byte) ([]byte, error) {
	start := p.pos
	digits := func() int {
		n := 0
		for p.pos < len(p.src) && p.src[p.pos] >= '0' && p.src[p.pos] <= '9' {
			p.pos++
			n++
		}
		return n
	}
	if p.src[p.pos] == '-' {
		p.pos++
	}
	if p.pos < len(p.src) && p.src[p.pos] == '0' {
		p.pos++
	} else if digits() == 0 {
		return nil, p.errorf("invalid number")
	}
	if p.pos < len(p.src) && p.src[p.pos] == '.' {
		p.pos++
		if digits() == 0 {
			return nil, p.errorf("invalid number: no digits after '.'")
		}
	}
	if p.pos < len(p.src) && (p.src[p.pos] == 'e' || p.src[p.pos] == 'E') {
		p.pos++
		if p.pos < len(p.src) && (p.src[p.pos] == '+' || p.src[p.pos] == '-') {
			p.pos++
		}
		if digits() == 0 {
			return nil, p.errorf("invalid number: no digits in exponent")
		}
	}
	lit := p.src[start:p.pos]
	out, err := appendCanonicalNumber(dst, lit)
	if err != nil {
		p.pos = start
		return nil, p.errorf("%v", err)
	}
	return out, nil
}

// errNonFinite reports a number that is NaN or ±Inf as a float64.
var errNonFinite = errors.New("number is not finite (NaN, Inf or out of float64 range)")

// appendCanonicalNumber appends the canonical form of a syntactically valid
// JSON number literal.
func appendCanonicalNumber(dst []byte, lit []byte) ([]byte, error) {
	if !bytes.ContainsAny(lit, ".eE") {
		if string(lit) == "-0" {
			return append(dst, '0'), nil
		}
		if digits := len(lit) - bytes.IndexByte(lit, '-') - 1; digits <= 18 {
			return append(dst, lit...), nil // fits int64
		}
		if _, err := strconv.ParseInt(string(lit), 10, 64); err == nil {
			return append(dst, lit...), nil
		}
		if _, err := strconv.ParseUint(string(lit), 10, 64); err == nil {
			return append(dst, lit...), nil
		}
	}
	f, err := strconv.ParseFloat(string(lit), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return nil, err
	}
	return appendCanonicalFloat(dst, f)
}

// appendCanonicalFloat appends f as encoding/json writes a float64: the
// shortest decimal that round-trips, plain for 1e-6 ≤ |f| < 1e21, else in
// exponent form with the exponent's leading zeros removed; -0 as 0.
func appendCanonicalFloat(dst []byte, f float64) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, errNonFinite
	}
	if f == 0 {
		return append(dst, '0'), nil
	}
	format := byte('f')
	if abs := math.Abs(f); abs < 1e-6 || abs >= 1e21 {
		format = 'e'
	}
	start := len(dst)
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// 1e-07 → 1e-7, as encoding/json does.
		n := len(dst) - start
		if n >= 4 && dst[len(dst)-4] == 'e' && dst[len(dst)-3] == '-' && dst[len(dst)-2] == '0' {
			dst[len(dst)-2] = dst[len(dst)-1]
			dst = dst[:len(dst)-1]
		}
	}
	return dst, nil
}

// appendCanonicalString appends s as a JSON string with minimal escaping.
func appendCanonicalString[S ~string | ~[]byte](dst []byte, s S) []byte {
	const hexDigits = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c >= 0x20:
			dst = append(dst, c)
		case c == '\b':
			dst = append(dst, '\\', 'b')
		case c == '\f':
			dst = append(dst, '\\', 'f')
		case c == '\n':
			dst = append(dst, '\\', 'n')
		case c == '\r':
			dst = append(dst, '\\', 'r')
		case c == '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
	}
	return append(dst, '"')
}
