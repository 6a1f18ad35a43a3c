package sweep

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/sgsweep/sgsweep/sim"
)

func TestCanonical(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"sorted keys, no space", `{ "b": 1, "a": 2 }`, `{"a":2,"b":1}`},
		{"nested", `{"z":{"y":[3, {"b":true,"a":null}]},"a":false}`, `{"a":false,"z":{"y":[3,{"a":null,"b":true}]}}`},
		{"empty containers", `{"a":[],"b":{}}`, `{"a":[],"b":{}}`},
		{"float spellings", `[0.1, 1e-1, 0.10, 1E-1, 10e-2]`, `[0.1,0.1,0.1,0.1,0.1]`},
		{"integral floats are ints", `[1.0, 1e0, 1e2, 100, -5.000]`, `[1,1,100,100,-5]`},
		{"negative zero", `[-0, -0.0, -0e5, 0]`, `[0,0,0,0]`},
		{"exponent form like encoding/json", `[1e21, 1e-7, 1.5e-7, 1e20, 0.000001]`, `[1e+21,1e-7,1.5e-7,100000000000000000000,0.000001]`},
		{"shortest round trip", `[0.30000000000000004, 3.14159265358979323846]`, `[0.30000000000000004,3.141592653589793]`},
		{"big integers stay exact", `[18446744073709551615, -9223372036854775808, 9007199254740993]`, `[18446744073709551615,-9223372036854775808,9007199254740993]`},
		{"integers beyond 64 bits become floats", `[123456789012345678901234567890, 18446744073709551616]`, `[1.2345678901234568e+29,18446744073709552000]`},
		{"denormal", `5e-324`, `5e-324`},
		{"minimal string escapes", `"a\/b\u00e9\u0001\n\t\"\\<>&\u2028"`, "\"a/bé\\u0001\\n\\t\\\"\\\\<>&\u2028\""},
		{"surrogate pair", `"\ud83d\ude00"`, "\"😀\""},
		{"keys sorted by bytes", `{"b":1,"B":2,"é":3,"a":4}`, `{"B":2,"a":4,"b":1,"é":3}`},
		{"scalars", ` true `, `true`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Canonical(json.RawMessage(tt.in))
			if err != nil {
				t.Fatalf("Canonical(%s): %v", tt.in, err)
			}
			if string(got) != tt.want {
				t.Errorf("Canonical(%s) = %s, want %s", tt.in, got, tt.want)
			}
			again, err := Canonical(json.RawMessage(got))
			if err != nil || string(again) != string(got) {
				t.Errorf("Canonical is not idempotent: %s → %s (%v)", got, again, err)
			}
		})
	}
}

func TestCanonicalErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"repeated key", `{"a":1,"a":1}`, "repeated object key"},
		{"overflow", `[1e400]`, "not finite"},
		{"lone high surrogate", `"\ud83d"`, "lone surrogate"},
		{"lone low surrogate", `"\ude00"`, "lone surrogate"},
		{"invalid UTF-8", "\"\xff\"", "invalid UTF-8"},
		{"trailing data", `{} {}`, "after the value"},
		{"leading zero", `01`, "after the value"},
		{"bare dot", `1.`, "no digits after"},
		{"unterminated", `{"a":`, "end of input"},
		{"control character", "\"a\x01\"", "control character"},
		{"single quotes", `{'a':1}`, "want an object key"},
		{"empty", ``, "end of input"},
		{"too deep", strings.Repeat("[", maxJSONDepth+2) + strings.Repeat("]", maxJSONDepth+2), "nested deeper"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Canonical(json.RawMessage(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Canonical(%q) = %s, %v; want an error containing %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestCanonicalGoValues(t *testing.T) {
	got, err := Canonical(map[string]any{"neg": math.Copysign(0, -1), "s": "<&>", "f": float32(0.1)})
	if err != nil {
		t.Fatal(err)
	}
	// float32(0.1) is encoded by encoding/json as its shortest float32 form.
	if want := `{"f":0.1,"neg":0,"s":"<&>"}`; string(got) != want {
		t.Errorf("Canonical = %s, want %s", got, want)
	}
	for _, bad := range []any{math.NaN(), math.Inf(1), []float64{1, math.Inf(-1)}} {
		if got, err := Canonical(bad); err == nil {
			t.Errorf("Canonical(%v) = %s, want an error", bad, got)
		}
	}
}

// TestTaskIDVectors pins the canonical encoding and the task-ID hash: the
// expected IDs were computed independently (Python's hashlib over the
// expected canonical text).
func TestTaskIDVectors(t *testing.T) {
	tests := []struct {
		params, canonical string
		v1, v2            string // IDs under model sgsweep-sim/1 and /2
	}{
		{`{"b": 1, "a": [1e-1, 1e21, -0, 1.0]}`, `{"a":[0.1,1e+21,0,1],"b":1}`,
			"b4fc13f2adfb6ca5f80d8e8ed1ea1b9d", "2abd53a2aefa91da223a3e5d1484fb3e"},
		{`{"seed": 18446744073709551615, "s": "\u00e9\n\u0001<>&"}`, `{"s":"é\n\u0001<>&","seed":18446744073709551615}`,
			"4acd00a4f0db80898f3bbce95910b9c8", "73f8f518aa0681eb1bebce9eef391226"},
		{` { } `, `{}`,
			"c9e814b18c526b840244030593852641", "60c070d6b4e26f1a5c1c990370d2f754"},
		{`{"z": 5e-324, "y": 123456789012345678901234567890, "x": 0.0000001}`, `{"x":1e-7,"y":1.2345678901234568e+29,"z":5e-324}`,
			"c171ccd5bcb3020b9e79dd69ee80936f", "9a16ed3e01e84f41a07bbc29782d46dd"},
	}
	for _, tt := range tests {
		canon, err := Canonical(json.RawMessage(tt.params))
		if err != nil || string(canon) != tt.canonical {
			t.Errorf("Canonical(%s) = %s, %v; want %s", tt.params, canon, err, tt.canonical)
		}
		if got := TaskIDUnder("sgsweep-sim/1", json.RawMessage(tt.params)); got != tt.v1 {
			t.Errorf("TaskIDUnder(sgsweep-sim/1, %s) = %s, want %s", tt.params, got, tt.v1)
		}
		if got := TaskIDUnder("sgsweep-sim/2", json.RawMessage(tt.params)); got != tt.v2 {
			t.Errorf("TaskIDUnder(sgsweep-sim/2, %s) = %s, want %s", tt.params, got, tt.v2)
		}
	}
	if got := TaskID(json.RawMessage(`{"a":`)); got != "" {
		t.Errorf("TaskID(invalid JSON) = %q, want \"\"", got)
	}
}

func TestTaskIDOfConfigIgnoresSpelling(t *testing.T) {
	cfg := sim.DefaultConfig()
	params, err := Canonical(cfg)
	if err != nil {
		t.Fatal(err)
	}
	indented, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if a, b := TaskID(params), TaskID(indented); a != b || len(a) != 32 {
		t.Errorf("TaskID(canonical) = %q, TaskID(indented) = %q; want equal 32-digit IDs", a, b)
	}
	cfg.Surrogate.Scale = 10.000000000000002
	other, _ := Canonical(cfg)
	if TaskID(other) == TaskID(params) {
		t.Error("a config one ulp away has the same task ID")
	}
}

func TestDigest(t *testing.T) {
	// Expected: SHA-256 of the text {"a":1,"b":"x"}, computed independently.
	const want = "ecf9e98ec0641e23113ff3ce8bdc78d0ddd249886517fd4a7f68cc83d4e65667"
	got, err := Digest(map[string]any{"b": "x", "a": 1.0})
	if err != nil || got != want {
		t.Errorf("Digest = %s, %v; want %s", got, err, want)
	}
	if _, err := Digest(math.NaN()); err == nil {
		t.Error("Digest(NaN) succeeded")
	}
}

// FuzzCanonical checks that canonicalization never panics, accepts what
// encoding/json accepts (bar the documented refusals), preserves the value
// and is idempotent.
func FuzzCanonical(f *testing.F) {
	for _, s := range []string{`{"b":1,"a":[0.1,-0,1e21]}`, `"\ud83d\ude00"`, `[1e400]`, `{"a":1,"a":2}`, `18446744073709551616`, `[[[]]]`, `"\u0000"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := canonicalize(data)
		if err != nil {
			return
		}
		if !json.Valid(got) {
			t.Fatalf("canonicalize(%q) = %q: not valid JSON", data, got)
		}
		again, err := canonicalize(got)
		if err != nil || string(again) != string(got) {
			t.Fatalf("not idempotent: %q → %q → %q (%v)", data, got, again, err)
		}
		var a, b any
		if json.Unmarshal(data, &a) != nil {
			t.Fatalf("canonicalize accepted %q, which encoding/json refuses", data)
		}
		if err := json.Unmarshal(got, &b); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(normalizeZero(a), normalizeZero(b)) {
			t.Fatalf("value changed: %q → %q", data, got)
		}
	})
}

// normalizeZero maps -0 to 0 in a decoded JSON tree.
func normalizeZero(v any) any {
	switch v := v.(type) {
	case float64:
		if v == 0 {
			return 0.0
		}
	case []any:
		for i := range v {
			v[i] = normalizeZero(v[i])
		}
	case map[string]any:
		for k := range v {
			v[k] = normalizeZero(v[k])
		}
	}
	return v
}
