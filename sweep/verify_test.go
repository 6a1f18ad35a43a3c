package sweep_test

import (
	"strings"
	"testing"

	"github.com/sgsweep/sgsweep/sweep"
)

const verifyBase = `name: v
base: {train: {epochs: 1}}
replicates: {seed: 400}
`

// The verify block is parsed with its file, line and field in errors, is
// part of the canonical spec, and draws the same tasks for the same seed,
// about the fraction asked.
func TestVerifyBlock(t *testing.T) {
	for _, tt := range []struct{ block, want string }{
		{"verify: 0.5", "v.yaml:4: verify: want a mapping"},
		{"verify: {fraction: 0}", "v.yaml:4: verify.fraction: must be in (0, 1]"},
		{"verify: {fraction: 1.5}", "verify.fraction: must be in (0, 1]"},
		{"verify: {seed: 3}", "verify.fraction: missing"},
		{"verify: {fraction: 0.1, sed: 3}", "verify.sed"},
		{"verify: {fraction: x}", "verify.fraction"},
	} {
		_, err := sweep.Parse("v.yaml", []byte(verifyBase+tt.block))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.block, err, tt.want)
		}
	}
	parse := func(block string) *sweep.Spec {
		t.Helper()
		s, err := sweep.Parse("v.yaml", []byte(verifyBase+block))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	none, a, b, c := parse(""), parse("verify: {fraction: 0.25, seed: 1}"), parse("verify: {fraction: 0.25, seed: 1}"),
		parse("verify: {fraction: 0.25, seed: 2}")
	if none.Verify() != nil || strings.Contains(string(none.Canonical()), "verify") {
		t.Errorf("a spec without verify: %+v, %s", none.Verify(), none.Canonical())
	}
	if !strings.Contains(string(a.Canonical()), `"verify":{"fraction":0.25,"seed":1}`) || a.Fingerprint() == none.Fingerprint() {
		t.Errorf("canonical spec: %s", a.Canonical())
	}
	if d := sweep.Diff(a.Canonical(), c.Canonical()); len(d) != 1 || !strings.Contains(d[0], "seed: 1} → {fraction: 0.25, seed: 2}") {
		t.Errorf("diff: %q", d)
	}
	tasks, err := a.Expand()
	if err != nil {
		t.Fatal(err)
	}
	picked, same, differ := 0, 0, 0
	for _, task := range tasks {
		pa, pb, pc := a.Verify().Picks(task.ID), b.Verify().Picks(task.ID), c.Verify().Picks(task.ID)
		if pa != pb {
			t.Fatalf("task %s: the same seed drew differently", task.ID)
		}
		if pa {
			picked++
		}
		if pa == pc {
			same++
		} else {
			differ++
		}
	}
	if picked < 70 || picked > 130 || differ == 0 {
		t.Errorf("picked %d of 400 at 0.25 (%d the same for another seed)", picked, same)
	}
	all := parse("verify: {fraction: 1}")
	for _, task := range tasks {
		if !all.Verify().Picks(task.ID) {
			t.Fatalf("fraction 1 does not pick task %s", task.ID)
		}
	}
}
