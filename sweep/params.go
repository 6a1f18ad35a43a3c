package sweep

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/sgsweep/sgsweep/sim"
)

// Errors of task identity: DecodeParams and CheckTask return errors that
// wrap one of these.
var (
	// ErrIDMismatch: the task ID is not the hash of the parameters.
	ErrIDMismatch = errors.New("task ID does not match its parameters")
	// ErrInvalidParams: the parameters are not a valid sim.Config; the error
	// also wraps the *sim.FieldError(s) when the config decoded but failed
	// validation.
	ErrInvalidParams = errors.New("invalid task parameters")
)

var taskIDRE = regexp.MustCompile(`^[0-9a-f]{32}$`)

// ValidTaskID reports whether s has the form of a task ID (32 lowercase hex
// digits).
func ValidTaskID(s string) bool { return taskIDRE.MatchString(s) }

// CheckTask checks that id is the task ID of params under sim.ModelVersion
// (else an error wrapping ErrIDMismatch) and decodes params into a complete,
// valid sim.Config (else an error wrapping ErrInvalidParams): what a worker
// must know before it runs a task it was sent.
func CheckTask(id string, params json.RawMessage) (sim.Config, error) {
	canon, err := canonicalize(params)
	if err != nil {
		return sim.Config{}, fmt.Errorf("%w: params are not canonicalizable JSON: %v", ErrInvalidParams, err)
	}
	if got := taskIDOfCanonical(sim.ModelVersion, canon); got != id {
		return sim.Config{}, fmt.Errorf("%w: task_id %s, params hash to %s", ErrIDMismatch, id, got)
	}
	return decodeCanonicalParams(params, canon)
}

// DecodeParams decodes complete sim.Config parameters strictly: unknown and
// missing fields are errors, and so is a config that fails Validate. Errors
// wrap ErrInvalidParams (and the *sim.FieldErrors of an invalid config).
func DecodeParams(params json.RawMessage) (sim.Config, error) {
	canon, err := canonicalize(params)
	if err != nil {
		return sim.Config{}, fmt.Errorf("%w: %v", ErrInvalidParams, err)
	}
	return decodeCanonicalParams(params, canon)
}

// decodeCanonicalParams is DecodeParams for params whose canonical form
// canon is known.
func decodeCanonicalParams(params json.RawMessage, canon []byte) (sim.Config, error) {
	var cfg sim.Config
	dec := json.NewDecoder(bytes.NewReader(params))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return sim.Config{}, fmt.Errorf("%w: %v", ErrInvalidParams, err)
	}
	if dec.More() {
		return sim.Config{}, fmt.Errorf("%w: data after the params", ErrInvalidParams)
	}
	// Complete: the config encodes back to the same canonical JSON, so no
	// field was missing (or null, or out of its type's range).
	got, err := Canonical(cfg)
	if err != nil {
		return sim.Config{}, fmt.Errorf("%w: %v", ErrInvalidParams, err)
	}
	if !bytes.Equal(got, canon) {
		return sim.Config{}, fmt.Errorf("%w: not a complete sim.Config (%s)", ErrInvalidParams, firstDifference(canon, got))
	}
	if cfg.Numerics == "" {
		cfg.Numerics = sim.NumericsFloat64 // the default, left out of the JSON
	}
	if err := cfg.Validate(); err != nil {
		return sim.Config{}, fmt.Errorf("%w: %w", ErrInvalidParams, err)
	}
	return cfg, nil
}

// firstDifference names the first path where two canonical JSON objects
// differ.
func firstDifference(a, b []byte) string {
	fa, fb := map[string]string{}, map[string]string{}
	flattenJSON(a, "params", fa)
	flattenJSON(b, "params", fb)
	var diffs []string
	for k, v := range fb {
		if w, ok := fa[k]; !ok {
			diffs = append(diffs, k+" missing")
		} else if w != v {
			diffs = append(diffs, fmt.Sprintf("%s is %s, decodes as %s", k, w, v))
		}
	}
	for k := range fa {
		if _, ok := fb[k]; !ok {
			diffs = append(diffs, k+" is not a config field")
		}
	}
	if len(diffs) == 0 {
		return "differs after decoding"
	}
	slices.Sort(diffs)
	if len(diffs) > 3 {
		diffs = append(diffs[:3], fmt.Sprintf("%d more", len(diffs)-3))
	}
	return strings.Join(diffs, "; ")
}
