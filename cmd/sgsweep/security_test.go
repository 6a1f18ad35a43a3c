package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/sgsweep/sgsweep/coordinator"
	"github.com/sgsweep/sgsweep/coordinator/coordtest"
	"github.com/sgsweep/sgsweep/protocol"
	"github.com/sgsweep/sgsweep/results/store"
)

// connectRole connects to url as the role, with the credential of the data
// dir, and closes the connection when the test ends.
func connectRole(t *testing.T, dir, url string, role coordinator.Role) *nats.Conn {
	t.Helper()
	n := natsSettings{URLs: url, NKey: dataDir(dir).credentialFile(role), connectTimeout: 2 * time.Second,
		reconnectMax: time.Second}
	opts, err := n.options("test-"+string(role), loggerForTest())
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func publicKeys(t *testing.T, dir string) map[coordinator.Role]string {
	t.Helper()
	creds, err := coordinator.LoadCredentials(dataDir(dir).credentialsDir())
	if err != nil {
		t.Fatal(err)
	}
	keys := map[coordinator.Role]string{}
	for _, r := range coordinator.Roles {
		keys[r] = creds.Public(r)
	}
	return keys
}

// A coordinator killed with SIGKILL and started again on the same address
// keeps its credentials: the running worker reconnects and the sweep
// completes. Rotating the worker's credential and restarting then locks
// that worker out: it exits non-zero naming the seed file it used.
func TestCoordinatorRestartKeepsWorkers(t *testing.T) {
	dir := t.TempDir()
	listen := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	args := append([]string{"coordinator", "--data-dir", dir, "--listen", listen}, fastFlags...)
	ready := func(p *proc) {
		p.waitLine(20*time.Second, "coordinator ready", func(l string) bool { return strings.Contains(l, "coordinator ready") })
	}
	coord := startSgsweep(t, nil, args...)
	ready(coord)
	if !strings.Contains(coord.stderrText(), "--nats-nkey worker.nk") {
		t.Errorf("no hand-off instructions:\n%s", coord.stderrText())
	}
	keys := publicKeys(t, dir)
	ticketKey, err := os.ReadFile(filepath.Join(dir, "credentials", coordinator.TicketKeyFile))
	if err != nil {
		t.Fatalf("no ticket key: %v", err)
	}

	spec := coordtest.Spec(t, dir, "restart", 12, nil, "")
	if out, _, err := runCLI(t, "submit", "--data-dir", dir, spec); err != nil {
		t.Fatalf("submit: %v\n%s", err, out)
	}
	w := startSgsweep(t, &coordtest.Fake{Sleep: 300 * time.Millisecond}, "worker", "--data-dir", dir, "--concurrency", "2")
	waitStatus(t, dir, "restart", func(s *coordinator.SweepStatus) bool { return s.Done >= 2 })
	coord.cmd.Process.Kill()
	coord.wait(10 * time.Second)
	time.Sleep(time.Second) // the worker notices and starts reconnecting
	coord = startSgsweep(t, nil, args...)
	ready(coord)
	// A task whose delivery the killed server forgot is redelivered once the
	// worker's ack of it times out (30 s).
	waitStatusWithin(t, 90*time.Second, dir, "restart", func(s *coordinator.SweepStatus) bool { return s.State == store.SweepDone })
	if got := publicKeys(t, dir); !maps.Equal(got, keys) {
		t.Errorf("credentials changed across a restart: %v, then %v", keys, got)
	}
	// The tickets of the tasks queued before the restart stay valid: no
	// result is set aside as an orphan.
	if again, err := os.ReadFile(filepath.Join(dir, "credentials", coordinator.TicketKeyFile)); err != nil ||
		!bytes.Equal(again, ticketKey) {
		t.Errorf("the ticket key changed across a restart (%v)", err)
	}
	out, _, err := runCLI(t, "status", "--data-dir", dir, "--json")
	var st coordinator.Status
	if err != nil || json.Unmarshal([]byte(out), &st) != nil || st.Orphans != 0 {
		t.Errorf("status after the restart: %d orphans, %v\n%s", st.Orphans, err, out)
	}
	select {
	case <-w.done:
		t.Fatalf("the worker exited across the restart:\n%s", w.stderrText())
	default:
	}

	// Rotate the worker's credential: after a restart the worker is refused.
	out, _, err = runCLI(t, "credentials", "rotate", "--data-dir", dir, "worker")
	if err != nil || !strings.Contains(out, "new seeds for [worker]") {
		t.Fatalf("rotate: %v\n%s", err, out)
	}
	coord.cmd.Process.Signal(syscall.SIGTERM)
	if code := coord.wait(20 * time.Second); code != 0 {
		t.Errorf("coordinator exited %d on SIGTERM", code)
	}
	coord = startSgsweep(t, nil, args...)
	ready(coord)
	if code := w.wait(30 * time.Second); code == 0 {
		t.Error("the refused worker exited 0")
	}
	seed := dataDir(dir).credentialFile(coordinator.RoleWorker)
	if msg := w.stderrText(); !strings.Contains(msg, "refused the connection with nkey seed file "+seed) {
		t.Errorf("the refused worker's last words do not name %s:\n%s", seed, msg)
	}

	// A worker with a seed the server does not know fails at once.
	bogus := filepath.Join(t.TempDir(), "bogus.nk")
	if err := coordinator.RotateCredentials(filepath.Dir(bogus)); err != nil {
		t.Fatal(err)
	}
	bogus = filepath.Join(filepath.Dir(bogus), "worker.nk")
	stranger := startSgsweep(t, nil, "worker", "--data-dir", dir, "--nats-nkey", bogus)
	if code := stranger.wait(10 * time.Second); code == 0 || !strings.Contains(stranger.stderrText(), bogus) {
		t.Errorf("a worker with an unknown seed exited %d:\n%s", code, stranger.stderrText())
	}
}

// The coordinator's embedded server listens beyond loopback only with TLS
// (or --insecure); with a certificate, local workers verify it through
// nats.json and a sweep completes over TLS.
func TestCoordinatorTLS(t *testing.T) {
	dir := t.TempDir()
	_, _, err := runCLI(t, "coordinator", "--data-dir", dir, "--listen", "0.0.0.0:0")
	if err == nil || !strings.Contains(err.Error(), "without TLS") || !strings.Contains(err.Error(), "--insecure") {
		t.Errorf("plain non-loopback listener: %v", err)
	}
	if _, err := os.Stat(dataDir(dir).connPath()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("nats.json after the refusal: %v", err)
	}
	cert, key := coordtest.SelfSignedCert(t, t.TempDir())
	coord := startSgsweep(t, nil, append([]string{"coordinator", "--data-dir", dir, "--listen", "127.0.0.1:0",
		"--tls-cert", cert, "--tls-key", key}, fastFlags...)...)
	coord.waitLine(20*time.Second, "coordinator ready", func(l string) bool { return strings.Contains(l, "coordinator ready") })
	info, err := dataDir(dir).readConn()
	if err != nil || !strings.HasPrefix(info.URL, "tls://") || info.CA != cert {
		t.Fatalf("nats.json: %+v, %v", info, err)
	}
	spec := coordtest.Spec(t, dir, "tls", 3, nil, "")
	if out, _, err := runCLI(t, "submit", "--data-dir", dir, spec); err != nil {
		t.Fatalf("submit: %v\n%s", err, out)
	}
	startSgsweep(t, &coordtest.Fake{}, "worker", "--data-dir", dir, "--concurrency", "2")
	waitStatus(t, dir, "tls", func(s *coordinator.SweepStatus) bool { return s.State == store.SweepDone && s.Done == 3 })
	// Without the CA the server's certificate is not trusted.
	_, _, err = runCLI(t, "status", "--data-dir", dir, "--tls-ca", key)
	if err == nil {
		t.Error("status with a wrong CA file succeeded")
	}
}

// One coordinator per NATS deployment: a second one, with another data
// dir, is refused and names the first; the first, killed with SIGKILL and
// started again, takes its lease over at once and the sweep completes.
func TestOneCoordinatorPerDeployment(t *testing.T) {
	srv := coordtest.StartServer(t, "", 0, "")
	dirA, dirB := t.TempDir(), t.TempDir()
	args := append([]string{"coordinator", "--nats", srv.URL, "--data-dir", dirA, "--lease-ttl", "3s"}, fastFlags...)
	ready := func(p *proc) {
		p.waitLine(20*time.Second, "coordinator ready", func(l string) bool { return strings.Contains(l, "coordinator ready") })
	}
	a := startSgsweep(t, nil, args...)
	ready(a)

	_, _, err := runCLI(t, "coordinator", "--nats", srv.URL, "--data-dir", dirB)
	if !errors.Is(err, coordinator.ErrLeaseHeld) || !strings.Contains(err.Error(), "data dir "+dirA) ||
		!strings.Contains(err.Error(), "since ") {
		t.Fatalf("second coordinator: %v", err)
	}

	spec := coordtest.Spec(t, dirA, "lease", 10, nil, "")
	if out, _, err := runCLI(t, "submit", "--nats", srv.URL, spec); err != nil {
		t.Fatalf("submit: %v\n%s", err, out)
	}
	startSgsweep(t, &coordtest.Fake{Sleep: 200 * time.Millisecond}, "worker", "--nats", srv.URL, "--concurrency", "2")
	status := func(cond func(s *coordinator.SweepStatus) bool) {
		t.Helper()
		coordtest.WaitFor(t, 60*time.Second, "sweep status", func() bool {
			out, _, err := runCLI(t, "status", "--nats", srv.URL, "--json", "lease")
			var st coordinator.Status
			return err == nil && json.Unmarshal([]byte(out), &st) == nil && len(st.Sweeps) == 1 && cond(&st.Sweeps[0])
		})
	}
	status(func(s *coordinator.SweepStatus) bool { return s.Done >= 2 })
	a.cmd.Process.Kill()
	a.wait(10 * time.Second)
	a = startSgsweep(t, nil, args...)
	ready(a)
	status(func(s *coordinator.SweepStatus) bool { return s.State == store.SweepDone && s.Done == 10 })
}

// The external deployment's configuration of docker/nats/accounts.conf (the
// compose deployments', documented in docs/scale-out.md, Security) works: a
// coordinator, a client, a reader and a worker with their users do a sweep,
// a worker user's health check passes, and it cannot cancel the sweep.
func TestDocumentedExternalRoles(t *testing.T) {
	path, err := filepath.Abs(filepath.Join("..", "..", "docker", "nats", "accounts.conf"))
	if err != nil {
		t.Fatal(err)
	}
	for _, role := range coordinator.Roles {
		t.Setenv("NATS_"+strings.ToUpper(string(role))+"_PASSWORD", "pw-"+string(role))
	}
	opts, err := server.ProcessConfigFile(path)
	if err != nil {
		t.Fatalf("the documented configuration: %v", err)
	}
	opts.Host, opts.Port, opts.NoSigs, opts.NoLog = "127.0.0.1", -1, true, true
	opts.JetStream, opts.StoreDir = true, t.TempDir()
	srv, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("server not ready")
	}
	t.Cleanup(srv.Shutdown)
	url := srv.ClientURL()
	as := func(role coordinator.Role) []string {
		return []string{"--nats", url, "--nats-user", string(role), "--nats-password", "pw-" + string(role)}
	}
	dir := t.TempDir()
	coord := startSgsweep(t, nil, append(append([]string{"coordinator", "--data-dir", dir}, as(coordinator.RoleCoordinator)...),
		fastFlags...)...)
	coord.waitLine(20*time.Second, "coordinator ready", func(l string) bool { return strings.Contains(l, "coordinator ready") })
	spec := coordtest.Spec(t, dir, "external", 4, nil, "")
	if out, _, err := runCLI(t, append(append([]string{"submit"}, as(coordinator.RoleClient)...), spec)...); err != nil {
		t.Fatalf("submit as client: %v\n%s", err, out)
	}
	// The worker user's requests to the control API go nowhere.
	wnc, err := nats.Connect(url, nats.UserInfo("worker", "pw-worker"), nats.CustomInboxPrefix("_INBOX.worker"),
		nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {}))
	if err != nil {
		t.Fatal(err)
	}
	defer wnc.Close()
	if _, err := wnc.Request(protocol.ControlSubject("cancel"), []byte(`{"sweep":"external"}`), time.Second); err == nil {
		t.Error("the worker user cancelled the sweep")
	}
	if out, _, err := runCLI(t, append([]string{"health"}, as(coordinator.RoleWorker)...)...); err != nil {
		t.Errorf("health as the worker user: %v\n%s", err, out)
	}
	startSgsweep(t, &coordtest.Fake{}, append([]string{"worker", "--concurrency", "2"}, as(coordinator.RoleWorker)...)...)
	coordtest.WaitFor(t, 30*time.Second, "the sweep done, read by the reader", func() bool {
		out, _, err := runCLI(t, append(append([]string{"status", "--json"}, as(coordinator.RoleReader)...), "external")...)
		var st coordinator.Status
		return err == nil && json.Unmarshal([]byte(out), &st) == nil && len(st.Sweeps) == 1 &&
			st.Sweeps[0].State == store.SweepDone && st.Sweeps[0].Done == 4
	})
}
