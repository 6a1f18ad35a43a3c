package sweep

import (
	"crypto/sha256"
	"encoding/binary"
	"reflect"

	"go.yaml.in/yaml/v3"
)

// Verify is a spec's verify block: a seeded draw over the task IDs picks
// Fraction of the tasks, each of which the coordinator has computed a
// second time by another worker once its first result is in, and the two
// digests compared (see docs/scale-out.md, Security):
//
//	verify: {fraction: 0.05, seed: 1}
//
// It is part of the canonical spec (absent without the block, so that
// other specs keep their fingerprints).
type Verify struct {
	// Fraction is the share of tasks verified, in (0, 1]: the extra
	// compute is this fraction of the sweep's.
	Fraction float64 `json:"fraction"`
	// Seed seeds the draw (default 0): the same seed picks the same tasks.
	Seed uint64 `json:"seed"`
}

// Verify returns the spec's verify block, nil without one.
func (s *Spec) Verify() *Verify {
	if s.verify == nil {
		return nil
	}
	v := *s.verify
	return &v
}

// Picks reports whether the draw picks the task: the first 8 bytes of
// SHA-256(seed, task ID), as a fraction of 2⁶⁴, are below Fraction. It
// depends on nothing else, so every coordinator picks the same tasks.
func (v *Verify) Picks(taskID string) bool {
	if v == nil {
		return false
	}
	var seed [8]byte
	binary.BigEndian.PutUint64(seed[:], v.Seed)
	h := sha256.New()
	h.Write(seed[:])
	h.Write([]byte(taskID))
	u := binary.BigEndian.Uint64(h.Sum(nil)[:8])
	return float64(u>>11)/(1<<53) < v.Fraction
}

// parseVerify reads the spec's verify block (n is nil when the spec has
// none).
func (p *specParser) parseVerify(n *yaml.Node) {
	if n == nil || isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		p.errs.add(posOf(n), "verify", "want a mapping like {fraction: 0.05, seed: 1}; got %s", describeNode(n))
		return
	}
	v := &Verify{}
	if !p.decoder("verify").decode(n, reflect.ValueOf(v).Elem(), "") {
		return
	}
	set := false
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "fraction" {
			set = true
			if !(v.Fraction > 0 && v.Fraction <= 1) {
				p.errs.add(posOf(n.Content[i+1]), "verify.fraction", "must be in (0, 1], the share of tasks computed twice; got %v", v.Fraction)
				return
			}
		}
	}
	if !set {
		p.errs.add(posOf(n), "verify.fraction", "missing: the share of tasks computed twice, in (0, 1], like 0.05")
		return
	}
	p.spec.verify = v
}
