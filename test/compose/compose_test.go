// Package compose holds the compose integration test: the images built
// here, docker-compose.yml with docker-compose.cluster.yml (three NATS
// servers, R3 streams), a real sweep, and a worker and a NATS server killed
// with `docker kill` while it runs. It needs a Docker daemon and
// docker-compose (tested with 1.29.2; else the `docker compose` plugin), and runs
// only when SGSWEEP_COMPOSE_TEST=1; .ci/run sets it when a daemon answers.
//
//	SGSWEEP_COMPOSE_TEST=1 go test -v -count=1 -timeout 20m ./test/compose/
//
// SGSWEEP_COMPOSE_PROJECT names the compose project (default: a new unique
// name per run), so that a caller can tear it down should this process be
// killed. The test always runs `down -v` itself, even when it fails.
package compose

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sgsweep/sgsweep/coordinator"
	"github.com/sgsweep/sgsweep/results"
)

const (
	// sweepName and sweepTasks describe testdata/compose-kill.yaml.
	sweepName  = "compose-kill"
	sweepTasks = 48
	// workers is the number of worker containers (one slot each).
	workers = 3
	// killAfter is how many tasks must be done before the kills.
	killAfter = 8
	// ackWait is the coordinator's ack wait in the test: a task held by the
	// killed worker comes back after it.
	ackWait = "5s"
)

// TestComposeClusterSurvivesKills brings up the cluster deployment, submits a
// sweep of real trainings, kills a worker and the NATS server leading the
// task stream mid-sweep, and checks that the sweep completes with exactly
// one result per task while both stay dead.
func TestComposeClusterSurvivesKills(t *testing.T) {
	if os.Getenv("SGSWEEP_COMPOSE_TEST") != "1" {
		t.Skip("compose test: set SGSWEEP_COMPOSE_TEST=1 (needs a Docker daemon and docker-compose)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), testBudget(t))
	defer cancel()
	d := newDeployment(t)

	start := time.Now()
	d.buildImages(ctx)
	t.Logf("images built in %s", time.Since(start).Round(time.Second))

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
	before := d.waitSweep(ctx, "at least "+strconv.Itoa(killAfter)+" tasks done",
		func(s *coordinator.SweepStatus) bool { return s.Done >= killAfter })
	if before.State != results.SweepRunning {
		t.Fatalf("sweep %s before the kills: %+v; want it still running (make its tasks longer)", before.State, before.SweepInfo)
	}

	// The NATS server to kill: the task stream's leader, so that the
	// stream and the workers' consumer must fail over.
	leader := d.taskStreamLeader(ctx)
	victims := map[string]string{"worker": d.containerID(ctx, "worker", 1), leader: d.containerID(ctx, leader, 1)}
	for service, id := range victims {
		d.docker(ctx, "kill", id)
		t.Logf("killed %s (%s) with %d of %d tasks done", service, id[:12], before.Done, sweepTasks)
	}

	final := d.waitSweep(ctx, "the sweep to finish", func(s *coordinator.SweepStatus) bool {
		return s.State != results.SweepRunning
	})
	t.Logf("sweep finished %s after submission: %+v", time.Since(sweepStart).Round(time.Second), final.SweepInfo)
	for service, id := range victims {
		if running := d.docker(ctx, "inspect", "-f", "{{.State.Running}}", id); strings.TrimSpace(running) != "false" {
			t.Errorf("killed %s container is running again; the test wants it dead until the end", service)
		}
	}
	info := final.SweepInfo
	if info.State != results.SweepDone || info.Expected != sweepTasks || info.Done != sweepTasks ||
		info.Failed != 0 || info.Pending != 0 || info.Conflicts != 0 {
		t.Fatalf("final status: %+v; want done with %d of %d tasks done, none failed, pending or conflicting",
			info, sweepTasks, sweepTasks)
	}

	// The results query, answered by the coordinator.
	agg := readCSV(t, d.sgsweep(ctx, "results", "--format", "csv", "--group-by", "none", "--metric", "test_acc",
		"--agg", "n,expected,done", sweepName))
	want := strconv.Itoa(sweepTasks)
	if len(agg) != 1 || agg[0]["test_acc.n"] != want || agg[0]["expected"] != want || agg[0]["done"] != want {
		t.Errorf("results: %v; want one row with test_acc.n = expected = done = %d", agg, sweepTasks)
	}

	// The export while the coordinator runs (from its snapshot of the
	// store), and from the store itself once it is stopped: the same rows.
	live := d.sgsweep(ctx, "export", sweepName)
	checkExport(t, readCSV(t, live))
	d.compose(ctx, "stop", "coordinator")
	if stored := d.compose(ctx, "run", "--rm", "--no-deps", "-T", "coordinator", "export", sweepName); stored != live {
		t.Errorf("the export of the stopped coordinator's store differs from the one while it ran:\n%s\nwant\n%s", stored, live)
	}

	// The coordinator starts again on its store.
	d.compose(ctx, "start", "coordinator")
	d.waitHealthy(ctx, "coordinator")
}

// checkExport checks the export has one row per task, each done once, and
// that some task was delivered more than once (the kills hit running work).
func checkExport(t *testing.T, rows []map[string]string) {
	t.Helper()
	if len(rows) != sweepTasks {
		t.Fatalf("export has %d rows, want %d", len(rows), sweepTasks)
	}
	ids := map[string]bool{}
	hosts := map[string]int{}
	redelivered := 0
	for i, r := range rows {
		if ids[r["task_id"]] {
			t.Errorf("row %d: task %s exported twice", i, r["task_id"])
		}
		ids[r["task_id"]] = true
		if r["state"] != "done" || r["test_acc"] == "" {
			t.Errorf("row %d: task %s state %q test_acc %q, want done with a test accuracy", i, r["task_id"], r["state"], r["test_acc"])
		}
		hosts[r["host"]]++
		if n, _ := strconv.Atoi(r["attempts"]); n > 1 {
			redelivered++
		}
	}
	t.Logf("export: %d tasks, %d delivered more than once, results by worker host %v", len(ids), redelivered, hosts)
	if redelivered == 0 {
		t.Errorf("no task was delivered more than once: the killed worker held no task")
	}
	if len(hosts) != workers+1 {
		t.Errorf("results came from %d worker hosts, want %d (every worker, the killed one before its death, "+
			"and the one outside the compose network)", len(hosts), workers+1)
	}
}

// deployment is one compose project.
type deployment struct {
	t       *testing.T
	root    string // the repository
	project string
	env     []string // the environment of docker-compose
	images  []string
}

// newDeployment names the project and its images, and registers the
// teardown: logs on failure, then `down -v` and the images, whatever
// happened.
func newDeployment(t *testing.T) *deployment {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	project := os.Getenv("SGSWEEP_COMPOSE_PROJECT")
	if project == "" {
		project = "sgsweep-ct-" + randomHex(t, 4)
	}
	d := &deployment{t: t, root: root, project: project}
	sgsweepImage, natsImage := "sgsweep/sgsweep:"+project, "sgsweep/nats-server:"+project
	d.images = []string{sgsweepImage, natsImage}
	d.env = append(os.Environ(),
		"SGSWEEP_IMAGE="+sgsweepImage,
		"NATS_LOCAL_IMAGE="+natsImage,
		"NATS_IMAGE="+natsImage,
		"NATS_TOKEN="+randomHex(t, 16),
		// Random host ports: runs do not collide.
		"NATS_PUBLISH=127.0.0.1:", "NATS2_PUBLISH=127.0.0.1:", "NATS3_PUBLISH=127.0.0.1:",
		"SGSWEEP_SPECS="+filepath.Join(root, "test", "compose", "testdata"),
		"SGSWEEP_BACKOFF="+ackWait,
		"SGSWEEP_LOG_LEVEL=info",
	)
	t.Logf("compose project %s", project)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		if t.Failed() {
			out, _ := d.run(ctx, d.composeArgs("logs", "--no-color", "--tail", "40"))
			t.Logf("logs of the failed run:\n%s", out)
		}
		if out, err := d.run(ctx, d.composeArgs("down", "-v", "--remove-orphans", "--timeout", "10")); err != nil {
			t.Errorf("down -v: %v\n%s", err, out)
		}
		if out, err := d.run(ctx, append([]string{"docker", "image", "rm"}, d.images...)); err != nil {
			t.Logf("removing the images: %v\n%s", err, out)
		}
	})
	return d
}

// startExternalWorker runs a worker container on the host's network (not
// the project's) that knows the NATS servers by their published ports on
// 127.0.0.1 only, like a worker on another machine. It carries the project's
// label, by which .ci/run removes it should this test be killed before its
// cleanup.
func (d *deployment) startExternalWorker(ctx context.Context) {
	var urls []string
	for _, node := range []string{"nats", "nats2", "nats3"} {
		addr := strings.TrimSpace(d.compose(ctx, "port", node, "4222"))
		urls = append(urls, "nats://"+addr)
	}
	name := d.project + "-external-worker"
	d.docker(ctx, "run", "-d", "--name", name, "--network", "host", "--tmpfs", "/data",
		"--label", "com.docker.compose.project="+d.project,
		"-e", "NATS_URL="+strings.Join(urls, ","), "-e", "NATS_TOKEN", "-e", "SGSWEEP_LOG_LEVEL",
		d.images[0], "worker", "--concurrency", "1")
	d.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if d.t.Failed() {
			out, _ := exec.CommandContext(ctx, "docker", "logs", "--tail", "40", name).CombinedOutput()
			d.t.Logf("logs of %s:\n%s", name, out)
		}
		d.run(ctx, []string{"docker", "rm", "-f", "-v", name})
	})
	d.t.Logf("external worker on the host network, NATS at %s", strings.Join(urls, ","))
}

// buildImages runs docker/build-images.sh, which users run too.
func (d *deployment) buildImages(ctx context.Context) {
	d.must(d.run(ctx, []string{filepath.Join(d.root, "docker", "build-images.sh")}))
}

// composeArgs is the command line of docker-compose on the cluster files.
func (d *deployment) composeArgs(args ...string) []string {
	cmd := []string{"docker", "compose"}
	if _, err := exec.LookPath("docker-compose"); err == nil {
		cmd = []string{"docker-compose"}
	}
	cmd = append(cmd, "--project-name", d.project,
		"-f", filepath.Join(d.root, "docker-compose.yml"),
		"-f", filepath.Join(d.root, "docker-compose.cluster.yml"))
	return append(cmd, args...)
}

// compose runs docker-compose and returns its standard output; an error
// fails the test.
func (d *deployment) compose(ctx context.Context, args ...string) string {
	return d.must(d.run(ctx, d.composeArgs(args...)))
}

// sgsweep runs sgsweep in the coordinator's container (its NATS settings
// from the environment).
func (d *deployment) sgsweep(ctx context.Context, args ...string) string {
	return d.compose(ctx, append([]string{"exec", "-T", "coordinator", "/sgsweep"}, args...)...)
}

// trySgsweep is sgsweep without failing the test (while servers fail over).
func (d *deployment) trySgsweep(ctx context.Context, args ...string) (string, error) {
	return d.run(ctx, d.composeArgs(append([]string{"exec", "-T", "coordinator", "/sgsweep"}, args...)...))
}

func (d *deployment) docker(ctx context.Context, args ...string) string {
	return d.must(d.run(ctx, append([]string{"docker"}, args...)))
}

// run runs a command in the repository with the deployment's environment
// and returns its standard output; the error includes standard error.
func (d *deployment) run(ctx context.Context, argv []string) (string, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir, cmd.Env = d.root, d.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%s: %w\n%s", strings.Join(argv, " "), err, lastLines(stderr.String(), 30))
	}
	return stdout.String(), nil
}

func (d *deployment) must(out string, err error) string {
	d.t.Helper()
	if err != nil {
		d.t.Fatal(err)
	}
	return out
}

// containerID returns the id of a service's container (index from 1).
func (d *deployment) containerID(ctx context.Context, service string, index int) string {
	id := strings.TrimSpace(d.compose(ctx, "ps", "-q", "--", service))
	ids := strings.Fields(id)
	if len(ids) < index {
		d.t.Fatalf("service %s has %d containers, want at least %d", service, len(ids), index)
	}
	// ps lists containers in no fixed order; pick by name for stability.
	want := fmt.Sprintf("%s_%s_%d", d.project, service, index)
	for _, id := range ids {
		name := strings.TrimPrefix(strings.TrimSpace(d.docker(ctx, "inspect", "-f", "{{.Name}}", id)), "/")
		if name == want || name == strings.ReplaceAll(want, "_", "-") {
			return id
		}
	}
	return ids[index-1]
}

// waitHealthy waits for the Docker health check of a service's container.
func (d *deployment) waitHealthy(ctx context.Context, service string) {
	id := d.containerID(ctx, service, 1)
	status := ""
	for ctx.Err() == nil {
		status = strings.TrimSpace(d.docker(ctx, "inspect", "-f", "{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}", id))
		switch status {
		case "healthy":
			return
		case "none":
			d.t.Fatalf("%s has no health check", service)
		}
		sleep(ctx, time.Second)
	}
	d.t.Fatalf("%s not healthy: %s (%v)", service, status, ctx.Err())
}

// waitSweep polls `sgsweep status --json` until cond holds, tolerating
// failed requests (a NATS server just died, clients reconnect).
func (d *deployment) waitSweep(ctx context.Context, what string, cond func(*coordinator.SweepStatus) bool) *coordinator.SweepStatus {
	var last *coordinator.SweepStatus
	var lastErr error
	for ctx.Err() == nil {
		out, err := d.trySgsweep(ctx, "status", "--json", sweepName)
		if err == nil {
			var st coordinator.Status
			if err = json.Unmarshal([]byte(out), &st); err == nil && len(st.Sweeps) != 1 {
				err = fmt.Errorf("status lists %d sweeps, want 1", len(st.Sweeps))
			}
			if err == nil {
				last = &st.Sweeps[0]
				if cond(last) {
					return last
				}
			}
		}
		lastErr = err
		sleep(ctx, 2*time.Second)
	}
	d.t.Fatalf("waiting for %s: %v; last status %+v, last error %v", what, ctx.Err(), last, lastErr)
	return nil
}

// taskStreamLeader asks `sgsweep health` which NATS server leads the task
// stream (server names are service names).
func (d *deployment) taskStreamLeader(ctx context.Context) string {
	var rep struct {
		Checks []struct {
			Name, Leader string
			Replicas     int
		}
	}
	out := d.sgsweep(ctx, "health", "--coordinator", "--json")
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		d.t.Fatalf("health --json: %v\n%s", err, out)
	}
	for _, c := range rep.Checks {
		if c.Name == "stream SGSWEEP_TASKS" {
			if c.Replicas != 3 || !slices.Contains([]string{"nats", "nats2", "nats3"}, c.Leader) {
				d.t.Fatalf("task stream: %d replicas, leader %q; want 3 replicas led by a compose NATS service", c.Replicas, c.Leader)
			}
			return c.Leader
		}
	}
	d.t.Fatalf("health reports no task stream:\n%s", out)
	return ""
}

// readCSV parses an export into rows keyed by column.
func readCSV(t *testing.T, text string) []map[string]string {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(text)).ReadAll()
	if err != nil || len(recs) == 0 {
		t.Fatalf("export: %v (%d lines)", err, len(recs))
	}
	var rows []map[string]string
	for _, rec := range recs[1:] {
		row := map[string]string{}
		for i, name := range recs[0] {
			row[name] = rec[i]
		}
		rows = append(rows, row)
	}
	return rows
}

// testBudget is the time the test may take, leaving its cleanup time to
// tear down before go test's deadline.
func testBudget(t *testing.T) time.Duration {
	budget := 15 * time.Minute
	if dl, ok := t.Deadline(); ok {
		budget = min(budget, time.Until(dl)-3*time.Minute)
	}
	if budget <= 0 {
		t.Fatal("go test -timeout leaves no time for the compose test: give it 10m or more")
	}
	return budget
}

func randomHex(t *testing.T, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
