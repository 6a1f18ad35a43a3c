package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/sgsweep/sgsweep/coordinator/coordtest"
)

// TestHealthCommand checks `sgsweep health` against real servers: one with a
// running coordinator, one without (as a worker's container sees NATS
// before the coordinator started), a refused token and no server at all.
func TestHealthCommand(t *testing.T) {
	env := coordtest.NewEnv(t, coordtest.CoordinatorConfig())
	bare := coordtest.StartServer(t, "", 0, "s3cret")
	nothing := "nats://127.0.0.1:1"

	tests := []struct {
		name string
		args []string
		// checks maps each check's name to whether it must pass; the
		// report must have exactly these checks.
		checks  map[string]bool
		healthy bool
		detail  string // a substring of some check's detail
	}{
		{
			name: "coordinator running",
			args: []string{"--nats", env.Srv.URL, "--coordinator"},
			checks: map[string]bool{"nats": true, "jetstream": true, "stream SGSWEEP_TASKS": true,
				"stream SGSWEEP_RESULTS": true, "stream SGSWEEP_DLQ": true, "coordinator": true},
			healthy: true,
			detail:  "answers: 0 sweeps",
		},
		{
			name: "server without a coordinator, streams not required",
			args: []string{"--nats", bare.URL, "--nats-token", "s3cret"},
			checks: map[string]bool{"nats": true, "jetstream": true, "stream SGSWEEP_TASKS": true,
				"stream SGSWEEP_RESULTS": true, "stream SGSWEEP_DLQ": true},
			healthy: true,
			detail:  "not created yet",
		},
		{
			name: "server without a coordinator, coordinator required",
			args: []string{"--nats", bare.URL, "--nats-token", "s3cret", "--coordinator"},
			checks: map[string]bool{"nats": true, "jetstream": true, "stream SGSWEEP_TASKS": false,
				"stream SGSWEEP_RESULTS": false, "stream SGSWEEP_DLQ": false, "coordinator": false},
			detail: "missing: the coordinator creates it",
		},
		{
			name:   "wrong token",
			args:   []string{"--nats", bare.URL, "--nats-token", "wrong"},
			checks: map[string]bool{"nats": false},
			detail: "refused the connection",
		},
		{
			name:   "no server",
			args:   []string{"--nats", nothing},
			checks: map[string]bool{"nats": false},
			detail: "no NATS server reachable at " + nothing,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"health", "--json", "--timeout", "10s"}, tt.args...)
			stdout, stderr, err := runCLI(t, args...)
			if (err == nil) != tt.healthy {
				t.Fatalf("health %q: err = %v, want healthy %v\nstdout:\n%s\nstderr:\n%s", tt.args, err, tt.healthy, stdout, stderr)
			}
			var rep healthReport
			if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
				t.Fatalf("health --json output: %v\n%s", err, stdout)
			}
			if rep.Healthy != tt.healthy {
				t.Errorf("report healthy = %v, want %v", rep.Healthy, tt.healthy)
			}
			wantReport(t, &rep, tt.checks, tt.detail)
		})
	}
}

// wantReport checks that the report has exactly the named checks with the
// wanted outcomes, and that some detail contains detail.
func wantReport(t *testing.T, rep *healthReport, checks map[string]bool, detail string) {
	t.Helper()
	got := map[string]bool{}
	found := false
	for _, c := range rep.Checks {
		got[c.Name] = c.OK
		found = found || strings.Contains(c.Detail, detail)
	}
	if fmt.Sprint(got) != fmt.Sprint(checks) {
		t.Errorf("checks = %v, want %v", got, checks)
	}
	if !found {
		t.Errorf("no check detail contains %q: %+v", detail, rep.Checks)
	}
}

// TestHealthCommandText checks the text report and its exit status.
func TestHealthCommandText(t *testing.T) {
	env := coordtest.NewEnv(t, coordtest.CoordinatorConfig())
	stdout, _, err := runCLI(t, "health", "--nats", env.Srv.URL, "--coordinator")
	if err != nil {
		t.Fatalf("health: %v\n%s", err, stdout)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 6 {
		t.Fatalf("health printed %d lines, want 6:\n%s", len(lines), stdout)
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "ok  ") {
			t.Errorf("line %q does not start with ok", l)
		}
	}

	stdout, _, err = runCLI(t, "health", "--nats", "nats://127.0.0.1:1")
	if err == nil || !strings.HasPrefix(stdout, "FAIL  nats") {
		t.Fatalf("health without a server: err = %v, output %q; want an error and a FAIL line", err, stdout)
	}
	if code := exitCode(err); code != 1 {
		t.Errorf("exit status %d, want 1 (Docker reads 1 as unhealthy)", code)
	}
}

// TestHealthCommandMonitor checks --nats-monitor against a real nats-server's
// monitoring listener.
func TestHealthCommandMonitor(t *testing.T) {
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT,
		HTTPHost: "127.0.0.1", HTTPPort: server.RANDOM_PORT, JetStream: true, StoreDir: t.TempDir(),
		NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("server not ready")
	}
	monitor := "http://" + s.MonitorAddr().String()

	stdout, _, err := runCLI(t, "health", "--json", "--nats-monitor", monitor)
	if err != nil {
		t.Fatalf("health --nats-monitor %s: %v\n%s", monitor, err, stdout)
	}
	var rep healthReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	wantReport(t, &rep, map[string]bool{"nats-monitor": true}, `"status":"ok"`)

	s.Shutdown()
	s.WaitForShutdown()
	stdout, _, err = runCLI(t, "health", "--json", "--nats-monitor", monitor)
	if err == nil {
		t.Fatalf("health --nats-monitor on a stopped server succeeded:\n%s", stdout)
	}
	rep = healthReport{}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	wantReport(t, &rep, map[string]bool{"nats-monitor": false}, "connection refused")
}
