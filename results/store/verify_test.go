package store

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/sgsweep/sgsweep/protocol"
)

// fromWorker is task i's ok result in sweep v with acc, computed by
// worker and carrying the ticket of generation gen.
func fromWorker(i int, acc float64, worker string, gen int) Incoming {
	return sweepResult("v", i, acc, worker, gen)
}

func sweepResult(sweepName string, i int, acc float64, worker string, gen int) Incoming {
	in := testResult(sweepName, i, protocol.StatusOK, acc)
	in.Result.Provenance.Worker = worker
	in.Gen = gen
	raw, err := json.Marshal(in.Result)
	if err != nil {
		panic(err)
	}
	in.Raw = raw
	return in
}

// Only a result with the verification's generation from a worker not
// compared yet verifies or disputes a task; the counters survive a
// replanning (recount), and RetryDisputed reopens a dispute for a third
// worker at a new generation, whose result settles it: agreeing with the
// stored one, or with the one kept aside, which then replaces it.
func TestVerification(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	mustPlan(t, s, testPlan("v", 0, 1))
	mustCommit(t, s, []Incoming{fromWorker(0, 0.5, "a", 0), fromWorker(1, 0.5, "a", 0)}, nil, nil)
	if _, ok, err := s.StartVerify(ctx, "v", testTask(9).ID, "a"); ok || err != nil {
		t.Errorf("verification of an unknown task: %v, %v", ok, err)
	}
	var gens []int
	for i := range 2 {
		v, ok, err := s.StartVerify(ctx, "v", testTask(i).ID, "a")
		if !ok || err != nil || v.Gen != 1 || len(v.Workers) != 1 || v.Workers[0] != "a" {
			t.Fatalf("start verification of task %d: %+v, %v, %v", i, v, ok, err)
		}
		gens = append(gens, v.Gen)
	}
	if _, ok, _ := s.StartVerify(ctx, "v", testTask(0).ID, "a"); ok {
		t.Error("a task was verified twice")
	}
	var pending []Verification
	if err := s.PendingVerifications(ctx, func(v Verification) error { pending = append(pending, v); return nil }); err != nil ||
		len(pending) != 2 || pending[0].Sweep != "v" || pending[0].Gen != 1 {
		t.Fatalf("pending verifications %+v, %v", pending, err)
	}
	// Not recomputations: the first worker again, an old generation.
	mustCommit(t, s, []Incoming{fromWorker(0, 0.5, "a", 1), fromWorker(0, 0.5, "b", 0), fromWorker(1, 0.6, "a", 1)}, nil, nil)
	if info := mustSweep(t, s, "v"); info.Verified != 0 || info.Disputed != 0 {
		t.Fatalf("counted a result that is no recomputation: %+v", info)
	}
	mustCommit(t, s, []Incoming{fromWorker(0, 0.5, "b", gens[0]), fromWorker(1, 0.7, "b", gens[1])}, nil, nil)
	info := mustSweep(t, s, "v")
	if info.Verified != 1 || info.Disputed != 1 {
		t.Fatalf("sweep %+v, want 1 verified, 1 disputed", info)
	}
	d, err := s.Disputes(ctx, "v", 0)
	if err != nil || len(d) != 1 || d[0].TaskID != testTask(1).ID || len(d[0].Workers) != 2 || d[0].Workers[1] != "b" {
		t.Fatalf("disputes %+v, %v", d, err)
	}
	mustPlan(t, s, testPlan("v", 0, 1)) // resumes: recounts
	if info := mustSweep(t, s, "v"); info.Verified != 1 || info.Disputed != 1 {
		t.Errorf("after a replanning: %+v", info)
	}
	vers, err := s.RetryDisputed(ctx, "v")
	if err != nil || len(vers) != 1 || vers[0].Gen != 2 || len(vers[0].Workers) != 2 {
		t.Fatalf("retry disputed: %+v, %v", vers, err)
	}
	mustCommit(t, s, []Incoming{fromWorker(1, 0.5, "c", 2)}, nil, nil)
	if info := mustSweep(t, s, "v"); info.Verified != 2 || info.Disputed != 0 {
		t.Errorf("after the third worker agreed with the stored result: %+v", info)
	}

	// The stored result outvoted: a and b disagree, c sides with b.
	mustPlan(t, s, testPlan("w", 2))
	mustCommit(t, s, []Incoming{sweepResult("w", 2, 0.5, "a", 0)}, nil, nil)
	v, _, err := s.StartVerify(ctx, "w", testTask(2).ID, "a")
	if err != nil {
		t.Fatal(err)
	}
	mustCommit(t, s, []Incoming{sweepResult("w", 2, 0.7, "b", v.Gen)}, nil, nil)
	if vers, err := s.RetryDisputed(ctx, "w"); err != nil || len(vers) != 1 {
		t.Fatalf("retry disputed: %+v, %v", vers, err)
	}
	mustCommit(t, s, []Incoming{sweepResult("w", 2, 0.7, "c", v.Gen+1)}, nil, nil)
	info = mustSweep(t, s, "w")
	recs := records(t, s, "w")
	if info.Verified != 1 || info.Disputed != 0 || info.Conflicts != 1 || info.Duplicates != 1 ||
		recs[0].Result.Provenance.Worker != "c" ||
		recs[0].Result.Digest != "d-0.7" {
		t.Errorf("after the third worker sided with the second: %+v; stored %+v", info, recs[0].Result)
	}
	conflicts, err := s.Conflicts(ctx, "w", 0)
	if err != nil || len(conflicts) != 1 || conflicts[0].Other != "d-0.5" || conflicts[0].Worker != "a" {
		t.Fatalf("conflicts %+v, %v; want the outvoted result of a kept aside", conflicts, err)
	}
}
