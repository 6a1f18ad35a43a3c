package coordinator_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sgsweep/sgsweep/coordinator"
	"github.com/sgsweep/sgsweep/coordinator/coordtest"
	"github.com/sgsweep/sgsweep/results/store"
)

// A spec larger than the server's max_payload (1 MiB) is previewed and
// submitted through the object store, which keeps nothing afterwards.
func TestSubmitLargeSpec(t *testing.T) {
	e := coordtest.NewEnv(t, coordtest.CoordinatorConfig())
	path := coordtest.Spec(t, e.Dir, "large", 3, nil, "description: "+strings.Repeat("long text ", 150_000)+"\n")
	source, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if max := e.NC.MaxPayload(); int64(len(source)) <= max {
		t.Fatalf("spec of %d bytes fits the max payload %d", len(source), max)
	}
	ctx := context.Background()
	client := coordinator.NewClient(e.NC)
	req := coordinator.SubmitRequest{SpecName: path, Spec: source}
	pv, err := client.Preview(ctx, req)
	if err != nil || pv.Outcome != store.PreviewNew || pv.Tasks != 3 {
		t.Fatalf("preview = %+v, %v", pv, err)
	}
	rep, err := client.Submit(ctx, req)
	if err != nil || rep.Outcome != store.PlanCreated || rep.Tasks != 3 {
		t.Fatalf("submit = %+v, %v", rep, err)
	}
	_, name, stored, err := e.Store.SweepSpec(ctx, "large")
	if err != nil || name != path || !bytes.Equal(stored, source) {
		t.Errorf("stored spec %s of %d bytes (%v), want %s of %d bytes", name, len(stored), err, path, len(source))
	}
	obs, err := e.JS.ObjectStore(ctx, coordinator.SpecBucket)
	if err != nil {
		t.Fatal(err)
	}
	if list, err := obs.List(ctx); !errors.Is(err, jetstream.ErrNoObjectsFound) {
		t.Errorf("objects left in %s: %v, %v", coordinator.SpecBucket, list, err)
	}
	// A request naming an object that is not there is a bad request.
	_, err = client.Submit(ctx, coordinator.SubmitRequest{SpecName: path, SpecObject: "spec-missing"})
	var re *coordinator.RemoteError
	if !errors.As(err, &re) || re.Code != "400" || !strings.Contains(re.Message, "spec-missing") {
		t.Errorf("submit of a missing object: %v", err)
	}
}

// Under the per-role credentials the client role may not write to the
// object store: a spec over the limit is then refused (after the upload's
// 10 s at most, the test's 5 s here), with an error that names the limit,
// the denied permission and the ways around it.
func TestSubmitLargeSpecClientRole(t *testing.T) {
	e := newSecureEnv(t)
	path := coordtest.Spec(t, e.dir, "large", 3, nil, "description: "+strings.Repeat("long text ", 150_000)+"\n")
	client := coordinator.NewClient(e.connect(coordinator.RoleClient))
	rep, err := e.submit(client, path)
	if err != nil || rep.Tasks != 3 {
		t.Fatalf("large submit as the client role: %+v, %v", rep, err)
	}
	// The reader role may not upload: a clear error, naming the limit.
	reader := coordinator.NewClient(e.connect(coordinator.RoleReader))
	_, err = e.submit(reader, path)
	if err == nil || !strings.Contains(err.Error(), "max_payload") {
		t.Errorf("large submit as the reader role: %v", err)
	}
}
