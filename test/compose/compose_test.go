// Package compose holds the compose integration tests, on images built here
// by docker/build-images.sh: docker-compose.yml alone (one NATS server)
// through a small sweep, and with docker-compose.cluster.yml (three NATS
// servers, R3 streams) through a sweep during which a worker and a NATS
// server are killed with `docker kill`. They need a Docker daemon and
// docker-compose (tested with 1.29.2; else the `docker compose` plugin), and run
// only when SGSWEEP_COMPOSE_TEST=1; .ci/run sets it when a daemon answers.
//
//	SGSWEEP_COMPOSE_TEST=1 go test -v -count=1 -timeout 20m ./test/compose/
//
// SGSWEEP_COMPOSE_PROJECT is the prefix of the compose projects (default: a
// new unique name per run; the projects are PREFIX-single and
// PREFIX-cluster), so that a caller can tear them down should this process
// be killed. Each test always runs `down -v` itself, even when it fails.
package compose

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sgsweep/sgsweep/coordinator"
	"github.com/sgsweep/sgsweep/results/store"
)

const (
	// sweepName and sweepTasks describe testdata/compose-kill.yaml.
	sweepName  = "compose-kill"
	sweepTasks = 48
	// singleName and singleTasks describe testdata/compose-single.yaml.
	singleName  = "compose-single"
	singleTasks = 6
	// workers is the number of worker containers (one slot each).
	workers = 3
	// killAfter is how many tasks must be done before the kills.
	killAfter = 8
	// ackWait is the coordinator's ack wait in the test: a task held by the
	// killed worker comes back after it.
	ackWait = "5s"
)

// TestComposeSingleServer runs the default deployment, docker-compose.yml
// alone (one NATS server, streams with one replica), through a small sweep.
func TestComposeSingleServer(t *testing.T) {
	skipUnlessEnabled(t)
	ctx, cancel := context.WithTimeout(context.Background(), testBudget(t))
	defer cancel()
	d := newDeployment(ctx, t, "single", "docker-compose.yml")

	d.compose(ctx, "up", "-d", "--scale", "worker=2")
	d.waitHealthy(ctx, "nats")
	d.waitHealthy(ctx, "coordinator")
	rep := d.health(ctx)
	for _, c := range rep.Checks {
		if strings.HasPrefix(c.Name, "stream ") && (c.Replicas != 1 || c.Leader != "") {
			t.Errorf("%s: %d replicas, leader %q; want one replica on a single server", c.Name, c.Replicas, c.Leader)
		}
	}
	if out := d.sgsweep(ctx, "submit", "/specs/"+singleName+".yaml"); !strings.Contains(out, fmt.Sprintf("%d tasks planned", singleTasks)) {
		t.Fatalf("submit printed %q", out)
	}
	final := d.waitSweep(ctx, singleName, "the sweep to finish", finished)
	if info := final.SweepInfo; info.State != store.SweepDone || info.Done != singleTasks || info.Failed != 0 {
		t.Fatalf("final status: %+v; want done with %d tasks done", info, singleTasks)
	}
	checkExport(t, csvRows(t, d.sgsweep(ctx, "export", singleName)), singleTasks)
}

// TestComposeClusterSurvivesKills brings up the cluster deployment, submits a
// sweep of real trainings, kills a worker and the NATS server leading the
// task stream mid-sweep, and checks that the sweep completes with exactly
// one result per task while both stay dead.
func TestComposeClusterSurvivesKills(t *testing.T) {
	skipUnlessEnabled(t)
	ctx, cancel := context.WithTimeout(context.Background(), testBudget(t))
	defer cancel()
	d := newDeployment(ctx, t, "cluster", "docker-compose.yml", "docker-compose.cluster.yml")

	up := time.Now()
	d.compose(ctx, "up", "-d", "--scale", fmt.Sprintf("worker=%d", workers))
	for _, node := range []string{"nats", "nats2", "nats3"} {
		d.waitHealthy(ctx, node)
	}
	t.Logf("cluster up and healthy in %s", time.Since(up).Round(time.Second))
	// A worker outside the compose network, as on another machine: it
	// reaches the servers through their published ports only.
	d.startExternalWorker(ctx)

	out := d.sgsweep(ctx, "submit", "/specs/"+sweepName+".yaml")
	if want := fmt.Sprintf("%d tasks planned", sweepTasks); !strings.Contains(out, want) {
		t.Fatalf("submit printed %q, want %q", out, want)
	}
	sweepStart := time.Now()
	before := d.waitSweep(ctx, sweepName, "at least "+strconv.Itoa(killAfter)+" tasks done",
		func(s *coordinator.SweepStatus) bool { return s.Done >= killAfter })
	if before.State != store.SweepRunning {
		t.Fatalf("sweep %s before the kills: %+v; want it still running (make its tasks longer)", before.State, before.SweepInfo)
	}

	// The NATS server to kill: the task stream's leader, so that the
	// stream and the workers' consumer must fail over.
	leader := d.taskStreamLeader(ctx)
	victims := map[string]string{"worker": d.containerID(ctx, "worker"), leader: d.containerID(ctx, leader)}
	for service, id := range victims {
		d.docker(ctx, "kill", id)
		t.Logf("killed %s (%s) with %d of %d tasks done", service, id[:12], before.Done, sweepTasks)
	}

	final := d.waitSweep(ctx, sweepName, "the sweep to finish", finished)
	t.Logf("sweep finished %s after submission: %+v", time.Since(sweepStart).Round(time.Second), final.SweepInfo)
	for service, id := range victims {
		if running := d.docker(ctx, "inspect", "-f", "{{.State.Running}}", id); strings.TrimSpace(running) != "false" {
			t.Errorf("killed %s container is running again; the test wants it dead until the end", service)
		}
	}
	info := final.SweepInfo
	if info.State != store.SweepDone || info.Expected != sweepTasks || info.Done != sweepTasks ||
		info.Failed != 0 || info.Pending != 0 || info.Conflicts != 0 {
		t.Fatalf("final status: %+v; want done with %d of %d tasks done, none failed, pending or conflicting",
			info, sweepTasks, sweepTasks)
	}

	// The results query, answered by the coordinator.
	agg := csvRows(t, d.sgsweep(ctx, "results", "--format", "csv", "--group-by", "none", "--metric", "test_acc",
		"--agg", "n,expected,done", sweepName))
	want := strconv.Itoa(sweepTasks)
	if len(agg) != 1 || agg[0]["test_acc.n"] != want || agg[0]["expected"] != want || agg[0]["done"] != want {
		t.Errorf("results: %v; want one row with test_acc.n = expected = done = %d", agg, sweepTasks)
	}

	// The export while the coordinator runs (from its snapshot of the
	// store), and from the store itself once it is stopped: the same rows.
	live := d.sgsweep(ctx, "export", sweepName)
	checkKilledExport(t, csvRows(t, live))
	d.compose(ctx, "stop", "coordinator")
	if stored := d.compose(ctx, "run", "--rm", "--no-deps", "-T", "coordinator", "export", sweepName); stored != live {
		t.Errorf("the export of the stopped coordinator's store differs from the one while it ran:\n%s\nwant\n%s", stored, live)
	}

	// The coordinator starts again on its store.
	d.compose(ctx, "start", "coordinator")
	d.waitHealthy(ctx, "coordinator")
}

func finished(s *coordinator.SweepStatus) bool { return s.State != store.SweepRunning }

// checkExport checks the export has one row per task, each done once, and
// returns the number of rows by worker host.
func checkExport(t *testing.T, rows []map[string]string, tasks int) map[string]int {
	t.Helper()
	if len(rows) != tasks {
		t.Fatalf("export has %d rows, want %d", len(rows), tasks)
	}
	ids := map[string]bool{}
	hosts := map[string]int{}
	for i, r := range rows {
		if ids[r["task_id"]] {
			t.Errorf("row %d: task %s exported twice", i, r["task_id"])
		}
		ids[r["task_id"]] = true
		if r["state"] != "done" || r["test_acc"] == "" {
			t.Errorf("row %d: task %s state %q test_acc %q, want done with a test accuracy", i, r["task_id"], r["state"], r["test_acc"])
		}
		hosts[r["host"]]++
	}
	return hosts
}

// checkKilledExport checks the cluster test's export: one done row per task,
// some task delivered more than once (the kills hit running work), and
// results from every worker.
func checkKilledExport(t *testing.T, rows []map[string]string) {
	t.Helper()
	hosts := checkExport(t, rows, sweepTasks)
	redelivered := 0
	for _, r := range rows {
		if n, _ := strconv.Atoi(r["attempts"]); n > 1 {
			redelivered++
		}
	}
	t.Logf("export: %d tasks, %d delivered more than once, results by worker host %v", len(rows), redelivered, hosts)
	if redelivered == 0 {
		t.Errorf("no task was delivered more than once: the killed worker held no task")
	}
	if len(hosts) != workers+1 {
		t.Errorf("results came from %d worker hosts, want %d (every worker, the killed one before its death, "+
			"and the one outside the compose network)", len(hosts), workers+1)
	}
}
