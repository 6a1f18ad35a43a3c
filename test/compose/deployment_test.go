package compose

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sgsweep/sgsweep/coordinator"
	"github.com/sgsweep/sgsweep/results/resultstest"
)

// images are the two images both tests use, built once by
// docker/build-images.sh and removed by TestMain.
var images struct {
	once          sync.Once
	err           error
	sgsweep, nats string
	built         bool
}

// projectPrefix names this run's compose projects and image tags.
var projectPrefix = sync.OnceValue(func() string {
	if p := os.Getenv("SGSWEEP_COMPOSE_PROJECT"); p != "" {
		return p
	}
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return "sgsweep-ct-" + hex.EncodeToString(b)
})

func TestMain(m *testing.M) {
	code := m.Run()
	if images.built {
		out, err := exec.Command("docker", "image", "rm", images.sgsweep, images.nats).CombinedOutput()
		if err != nil {
			fmt.Fprintf(os.Stderr, "removing the test images: %v\n%s", err, out)
		}
	}
	os.Exit(code)
}

func skipUnlessEnabled(t *testing.T) {
	if os.Getenv("SGSWEEP_COMPOSE_TEST") != "1" {
		t.Skip("compose test: set SGSWEEP_COMPOSE_TEST=1 (needs a Docker daemon and docker-compose)")
	}
}

// deployment is one compose project.
type deployment struct {
	t       *testing.T
	root    string // the repository
	project string
	files   []string // the compose files, relative to root
	env     []string // the environment of docker-compose
}

// newDeployment builds the images (once for all tests), names the project
// (PREFIX-name) and registers the teardown: logs on failure, then `down -v`,
// whatever happened.
func newDeployment(ctx context.Context, t *testing.T, name string, files ...string) *deployment {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	d := &deployment{t: t, root: root, project: projectPrefix() + "-" + name, files: files}
	images.once.Do(func() {
		tag := projectPrefix()
		images.sgsweep, images.nats = "sgsweep/sgsweep:"+tag, "sgsweep/nats-server:"+tag
		start := time.Now()
		cmd := exec.CommandContext(ctx, filepath.Join(root, "docker", "build-images.sh"))
		cmd.Env = append(os.Environ(), "SGSWEEP_IMAGE="+images.sgsweep, "NATS_LOCAL_IMAGE="+images.nats)
		out, err := cmd.CombinedOutput()
		images.built = true
		if err != nil {
			images.err = fmt.Errorf("docker/build-images.sh: %w\n%s", err, out)
			return
		}
		t.Logf("images built in %s", time.Since(start).Round(time.Second))
	})
	if images.err != nil {
		t.Fatal(images.err)
	}
	d.env = append(os.Environ(),
		"SGSWEEP_IMAGE="+images.sgsweep,
		"NATS_IMAGE="+images.nats,
		// Random host ports: runs do not collide.
		"NATS_PUBLISH=127.0.0.1:", "NATS2_PUBLISH=127.0.0.1:", "NATS3_PUBLISH=127.0.0.1:",
		"SGSWEEP_SPECS="+filepath.Join(root, "test", "compose", "testdata"),
		"SGSWEEP_BACKOFF="+ackWait,
		"SGSWEEP_LOG_LEVEL=info",
	)
	// A random password per NATS role (docker/nats/accounts.conf).
	for _, role := range []string{"COORDINATOR", "WORKER", "CLIENT", "READER"} {
		password := make([]byte, 16)
		if _, err := rand.Read(password); err != nil {
			t.Fatal(err)
		}
		d.env = append(d.env, "NATS_"+role+"_PASSWORD="+hex.EncodeToString(password))
	}
	t.Logf("compose project %s", d.project)
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
		"-e", "NATS_URL="+strings.Join(urls, ","), "-e", "NATS_USER=worker",
		"-e", "NATS_PASSWORD="+d.getenv("NATS_WORKER_PASSWORD"), "-e", "SGSWEEP_LOG_LEVEL",
		images.sgsweep, "worker", "--concurrency", "1")
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

// getenv is a variable of the deployment's environment.
func (d *deployment) getenv(name string) string {
	for i := len(d.env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(d.env[i], name+"="); ok {
			return v
		}
	}
	return ""
}

// composeArgs is the command line of docker-compose on the deployment's files.
func (d *deployment) composeArgs(args ...string) []string {
	cmd := []string{"docker", "compose"}
	if _, err := exec.LookPath("docker-compose"); err == nil {
		cmd = []string{"docker-compose"}
	}
	cmd = append(cmd, "--project-name", d.project)
	for _, f := range d.files {
		cmd = append(cmd, "-f", filepath.Join(d.root, f))
	}
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
	return d.must(d.trySgsweep(ctx, args...))
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

// containerID returns the id of one of a service's containers.
func (d *deployment) containerID(ctx context.Context, service string) string {
	ids := strings.Fields(d.compose(ctx, "ps", "-q", "--", service))
	if len(ids) == 0 {
		d.t.Fatalf("service %s has no container", service)
	}
	return ids[0]
}

// waitHealthy waits for the Docker health check of a service's container.
func (d *deployment) waitHealthy(ctx context.Context, service string) {
	id := d.containerID(ctx, service)
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
func (d *deployment) waitSweep(ctx context.Context, sweep, what string, cond func(*coordinator.SweepStatus) bool) *coordinator.SweepStatus {
	var last *coordinator.SweepStatus
	var lastErr error
	for ctx.Err() == nil {
		out, err := d.trySgsweep(ctx, "status", "--json", sweep)
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

// healthReport is what `sgsweep health --json` prints.
type healthReport struct {
	Healthy bool
	Checks  []struct {
		Name, Leader string
		Replicas     int
	}
}

// health runs `sgsweep health --coordinator` in the coordinator's container.
func (d *deployment) health(ctx context.Context) *healthReport {
	var rep healthReport
	out := d.sgsweep(ctx, "health", "--coordinator", "--json")
	if err := json.Unmarshal([]byte(out), &rep); err != nil || !rep.Healthy {
		d.t.Fatalf("health --json: %v, healthy %v\n%s", err, rep.Healthy, out)
	}
	return &rep
}

// taskStreamLeader asks `sgsweep health` which NATS server leads the task
// stream (server names are service names).
func (d *deployment) taskStreamLeader(ctx context.Context) string {
	rep := d.health(ctx)
	for _, c := range rep.Checks {
		if c.Name == "stream SGSWEEP_TASKS" {
			if c.Replicas != 3 || !slices.Contains([]string{"nats", "nats2", "nats3"}, c.Leader) {
				d.t.Fatalf("task stream: %d replicas, leader %q; want 3 replicas led by a compose NATS service", c.Replicas, c.Leader)
			}
			return c.Leader
		}
	}
	d.t.Fatalf("health reports no task stream: %+v", rep)
	return ""
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

// csvRows parses a CSV table the CLI printed into rows keyed by column.
func csvRows(t *testing.T, text string) []map[string]string {
	t.Helper()
	_, rows := resultstest.ReadCSV(t, text)
	return rows
}
