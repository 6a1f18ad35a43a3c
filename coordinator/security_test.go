package coordinator_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sgsweep/sgsweep/coordinator"
	"github.com/sgsweep/sgsweep/coordinator/coordtest"
	"github.com/sgsweep/sgsweep/protocol"
	"github.com/sgsweep/sgsweep/results"
	"github.com/sgsweep/sgsweep/results/resultstest"
	"github.com/sgsweep/sgsweep/results/store"
	"github.com/sgsweep/sgsweep/sim"
	"github.com/sgsweep/sgsweep/sweep"
	"github.com/sgsweep/sgsweep/worker"
)

// secureEnv is a real NATS server that admits the per-role credentials
// only, a store and a coordinator connected as the coordinator role.
type secureEnv struct {
	t     *testing.T
	dir   string
	srv   *coordinator.Server
	creds *coordinator.Credentials
	st    *store.Store
	coord *coordinator.Coordinator
}

func newSecureEnv(t *testing.T) *secureEnv {
	t.Helper()
	e := &secureEnv{t: t, dir: t.TempDir()}
	var err error
	if e.creds, err = coordinator.LoadCredentials(filepath.Join(e.dir, "credentials")); err != nil {
		t.Fatal(err)
	}
	e.srv, err = coordinator.StartServer(coordinator.ServerOptions{StoreDir: filepath.Join(e.dir, "nats"), Credentials: e.creds})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.srv.Stop)
	e.st = resultstest.OpenStore(t, filepath.Join(e.dir, "state.db"), nil)
	cfg := coordtest.CoordinatorConfig()
	cfg.Logger = coordtest.Logger(t)
	if e.coord, err = coordinator.New(e.st, e.connect(coordinator.RoleCoordinator), cfg); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.coord.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("coordinator: %v", err)
		}
	})
	select {
	case <-e.coord.Ready():
	case err := <-done:
		t.Fatalf("coordinator stopped: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("coordinator not ready after 10s")
	}
	return e
}

// connect connects as the role, with its inbox prefix, as the CLI does.
func (e *secureEnv) connect(role coordinator.Role) *nats.Conn {
	e.t.Helper()
	kp, err := coordinator.ReadSeedFile(e.creds.CredentialFile(role))
	if err != nil {
		e.t.Fatal(err)
	}
	pub := e.creds.Public(role)
	nc, err := nats.Connect(e.srv.URL, nats.Nkey(pub, kp.Sign), nats.CustomInboxPrefix(coordinator.InboxPrefix(pub)),
		nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {}))
	if err != nil {
		e.t.Fatalf("connect as %s: %v", role, err)
	}
	e.t.Cleanup(nc.Close)
	return nc
}

func (e *secureEnv) submit(client *coordinator.Client, path string) (*store.PlanReport, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return client.Submit(ctx, coordinator.SubmitRequest{SpecName: path, Spec: data})
}

func (e *secureEnv) startWorker(name string, fake *coordtest.Fake) {
	e.t.Helper()
	cfg := coordtest.WorkerConfig(name, 2)
	cfg.Logger = coordtest.Logger(e.t)
	w, err := worker.New(e.connect(coordinator.RoleWorker), fake.Train, cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	e.t.Cleanup(func() { cancel(); <-done })
}

func (e *secureEnv) waitDone(name string) *store.SweepInfo {
	e.t.Helper()
	var info *store.SweepInfo
	coordtest.WaitFor(e.t, 30*time.Second, "sweep "+name+" done", func() bool {
		var err error
		info, err = e.st.Sweep(context.Background(), name)
		return err == nil && info.State == store.SweepDone
	})
	return info
}

// The worker role can take tasks and deliver results, and nothing else: no
// control request, no JetStream API beyond its consumer, no reading of the
// task subjects. The client role cannot publish results; the reader role
// can only query.
func TestRolePermissions(t *testing.T) {
	e := newSecureEnv(t)
	client := coordinator.NewClient(e.connect(coordinator.RoleClient))
	wnc := e.connect(coordinator.RoleWorker)
	asWorker := coordinator.NewClient(wnc)
	reader := coordinator.NewClient(e.connect(coordinator.RoleReader))
	bg := context.Background()
	short := func() context.Context {
		ctx, cancel := context.WithTimeout(bg, 500*time.Millisecond)
		t.Cleanup(cancel)
		return ctx
	}

	// A worker can neither submit nor see the tasks go by.
	seen := make(chan *nats.Msg, 10)
	wnc.ChanSubscribe(protocol.TaskSubjects, seen)
	spec := coordtest.Spec(t, e.dir, "guarded", 4, nil, "")
	data, _ := os.ReadFile(spec)
	if _, err := asWorker.Submit(short(), coordinator.SubmitRequest{SpecName: spec, Spec: data}); err == nil {
		t.Error("the worker role submitted a sweep")
	}
	if _, err := reader.Submit(short(), coordinator.SubmitRequest{SpecName: spec, Spec: data}); err == nil {
		t.Error("the reader role submitted a sweep")
	}
	if _, err := e.st.Sweep(bg, "guarded"); !errors.Is(err, results.ErrNotFound) {
		t.Fatalf("a refused submit planned the sweep: %v", err)
	}
	if rep, err := e.submit(client, spec); err != nil || rep.Tasks != 4 {
		t.Fatalf("client submit: %+v, %v", rep, err)
	}
	js, _ := jetstream.New(e.connect(coordinator.RoleCoordinator))
	tasks, err := js.Stream(bg, protocol.StreamTasks)
	if err != nil {
		t.Fatal(err)
	}
	coordtest.WaitFor(t, 10*time.Second, "4 tasks queued", func() bool {
		info, err := tasks.Info(bg)
		return err == nil && info.State.Msgs == 4
	})

	// Neither cancel, nor retry, nor the JetStream API.
	if _, err := asWorker.Cancel(short(), coordinator.CancelRequest{Sweep: "guarded"}); err == nil {
		t.Error("the worker role cancelled a sweep")
	}
	if _, err := reader.Cancel(short(), coordinator.CancelRequest{Sweep: "guarded"}); err == nil {
		t.Error("the reader role cancelled a sweep")
	}
	if _, err := asWorker.Retry(short(), coordinator.RetryRequest{Sweep: "guarded"}); err == nil {
		t.Error("the worker role retried a sweep")
	}
	wjs, _ := jetstream.New(wnc)
	if err := wjs.DeleteStream(short(), protocol.StreamTasks); err == nil {
		t.Error("the worker role deleted the task stream")
	}
	resp, err := wnc.Request("$JS.API.STREAM.PURGE."+protocol.StreamTasks, nil, 500*time.Millisecond)
	if err == nil {
		t.Errorf("the worker role's purge request got an answer: %s", resp.Data)
	}
	if _, err := wnc.Request("$JS.API.STREAM.MSG.GET."+protocol.StreamTasks, []byte(`{"seq":1}`), 500*time.Millisecond); err == nil {
		t.Error("the worker role read a task message through the JetStream API")
	}
	if info, err := tasks.Info(bg); err != nil || info.State.Msgs != 4 {
		t.Errorf("task stream after the worker's attempts: %+v, %v", info, err)
	}
	if info, err := e.st.Sweep(bg, "guarded"); err != nil || info.State != store.SweepRunning {
		t.Errorf("sweep after the worker's attempts: %+v, %v", info, err)
	}
	select {
	case m := <-seen:
		t.Errorf("the worker role received %s by subscription", m.Subject)
	default:
	}

	// A client's results never reach the result stream.
	cnc := e.connect(coordinator.RoleClient)
	cjs, _ := jetstream.New(cnc)
	if _, err := cjs.Publish(short(), protocol.ResultSubject("guarded", strings.Repeat("0", 64)), []byte("{}")); err == nil {
		t.Error("the client role published a result")
	}
	results, err := js.Stream(bg, protocol.StreamResults)
	if err != nil {
		t.Fatal(err)
	}
	if info, err := results.Info(bg); err != nil || info.State.Msgs != 0 || info.State.LastSeq != 0 {
		t.Errorf("result stream after the client's publication: %+v, %v", info.State, err)
	}

	// The worker may ask whether a task is done before it trains it.
	if reply, err := asWorker.HasResult(short(), strings.Repeat("0", 32)); err != nil || reply.Done {
		t.Errorf("worker role has-result: %+v, %v", reply, err)
	}

	// The reader reads; a worker with the worker role does the sweep.
	if st, err := reader.Status(short(), coordinator.StatusRequest{Sweep: "guarded"}); err != nil || len(st.Sweeps) != 1 {
		t.Errorf("reader status: %+v, %v", st, err)
	}
	e.startWorker("w", &coordtest.Fake{})
	if info := e.waitDone("guarded"); info.Done != 4 {
		t.Errorf("sweep = %+v", info)
	}
}

// forge builds a result of task for sweepName with the given test accuracy,
// as a client with worker credentials could: well-formed, with the right
// digest and params, claiming to come from a worker "forger".
func forge(t *testing.T, sweepName string, task sweep.Task, testAcc float64) []byte {
	t.Helper()
	cfg, err := sweep.DecodeParams(task.Params)
	if err != nil {
		t.Fatal(err)
	}
	res := &sim.Result{Status: sim.StatusOK, BestEpoch: cfg.Train.Epochs, BestValAcc: 0.9, TestAcc: testAcc, TestAccLast: testAcc}
	for e := 1; e <= cfg.Train.Epochs; e++ {
		res.Epochs = append(res.Epochs, sim.Epoch{Epoch: e, TrainLoss: 0.1, TrainAcc: 0.9, ValAcc: 0.9,
			Spikes: make([]float64, len(cfg.Network.Hidden)), Silent: make([]float64, len(cfg.Network.Hidden))})
	}
	m := protocol.ResultMsg{Schema: protocol.SchemaResult, Sweep: sweepName, TaskID: task.ID, Status: protocol.StatusOK,
		Result: res, Params: task.Params, Provenance: protocol.Provenance{ModelVersion: sim.ModelVersion,
			Build: protocol.CurrentBuild(), Host: "forged-host", Worker: "forger", Attempt: 1}}
	if m.Digest, err = sweep.Digest(res); err != nil {
		t.Fatal(err)
	}
	if err := protocol.CheckPlausible(&m); testAcc <= 1 && err != nil {
		t.Fatalf("forged result is implausible: %v", err)
	}
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// A client holding the worker credentials forges results: for a sweep not
// submitted yet, for tasks no sweep plans, and with an impossible
// accuracy for a queued task. None of them reaches the tables; the real workers' results do.
func TestForgedResults(t *testing.T) {
	e := newSecureEnv(t)
	client := coordinator.NewClient(e.connect(coordinator.RoleClient))
	forger, _ := jetstream.New(e.connect(coordinator.RoleWorker))
	bg := context.Background()
	publish := func(sweepName string, task sweep.Task, acc float64) {
		t.Helper()
		if _, err := forger.Publish(bg, protocol.ResultSubject(sweepName, task.ID), forge(t, sweepName, task, acc)); err != nil {
			t.Fatal(err)
		}
	}
	orphans := func(want int) {
		t.Helper()
		coordtest.WaitFor(t, 10*time.Second, "orphans counted", func() bool {
			st, err := e.coord.Status(bg, coordinator.StatusRequest{})
			return err == nil && st.Orphans == want
		})
	}

	// Before the sweep exists.
	early := coordtest.Spec(t, e.dir, "early", 4, nil, "")
	for _, task := range expandSpec(t, early) {
		publish("early", task, 0.999)
	}
	orphans(4)
	rep, err := e.submit(client, early)
	if err != nil || rep.Done != 0 || rep.Pending != 4 {
		t.Fatalf("submit after forged results: %+v, %v", rep, err)
	}

	// Tasks no sweep plans, published under an existing sweep's name.
	queued := coordtest.Spec(t, e.dir, "queued", 3, []float64{0.3}, "")
	if _, err := e.submit(client, queued); err != nil {
		t.Fatal(err)
	}
	queuedTasks := expandSpec(t, queued)
	for _, task := range expandSpec(t, coordtest.Spec(t, e.dir, "never", 3, []float64{0.4}, "")) {
		publish("queued", task, 0.999)
	}
	orphans(7)

	// Implausible, for a queued task: without the task's ticket it is an
	// orphan, and charges nothing to the task.
	publish("queued", queuedTasks[0], 7.5)
	orphans(8)
	rejected, _, err := e.st.Rejected(bg, 1)
	if err != nil || len(rejected) != 1 || !strings.Contains(rejected[0].Reason, "without a ticket") {
		t.Errorf("last rejected: %+v, %v", rejected, err)
	}

	// Real workers do both sweeps; only their numbers are in the tables.
	e.startWorker("real", &coordtest.Fake{})
	for _, name := range []string{"early", "queued"} {
		info := e.waitDone(name)
		if info.Done != info.Expected || info.Conflicts != 0 {
			t.Errorf("sweep %s = %+v", name, info)
		}
		err := e.st.Records(bg, name, func(r *results.Record) error {
			if p := r.Result.Provenance; p.Worker == "forger" || r.Result.Result.TestAcc > 0.99 {
				t.Errorf("sweep %s: a forged result in the tables: %s test_acc %v", name, p.Worker, r.Result.Result.TestAcc)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	st, err := e.coord.Status(bg, coordinator.StatusRequest{})
	if err != nil || st.Orphans != 8 || len(st.OrphanList) != 5 || st.OrphanList[0].Worker != "forger" {
		t.Errorf("status: %d orphans %+v, %v", st.Orphans, st.OrphanList, err)
	}
}

func expandSpec(t *testing.T, path string) []sweep.Task {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := sweep.Parse(path, data)
	if err != nil {
		t.Fatal(err)
	}
	tasks, err := s.Expand()
	if err != nil {
		t.Fatal(err)
	}
	return tasks
}

// The embedded server refuses to listen beyond loopback without TLS, and
// with a certificate serves TLS clients that trust it and only them.
func TestServerTLS(t *testing.T) {
	for _, host := range []string{"0.0.0.0", "::", "192.0.2.1"} {
		_, err := coordinator.StartServer(coordinator.ServerOptions{StoreDir: t.TempDir(), Host: host})
		if err == nil || !strings.Contains(err.Error(), "without TLS") || !strings.Contains(err.Error(), "--insecure") {
			t.Errorf("plain listener on %s: err = %v", host, err)
		}
	}

	dir := t.TempDir()
	cert, key := coordtest.SelfSignedCert(t, dir)
	if _, err := coordinator.StartServer(coordinator.ServerOptions{StoreDir: t.TempDir(), TLSCert: cert}); err == nil {
		t.Error("a certificate without its key was accepted")
	}
	srv, err := coordinator.StartServer(coordinator.ServerOptions{StoreDir: filepath.Join(dir, "nats"), Host: "127.0.0.1",
		TLSCert: cert, TLSKey: key, Token: "secret"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	if !strings.HasPrefix(srv.URL, "tls://127.0.0.1:") {
		t.Errorf("URL %s", srv.URL)
	}
	nc, err := nats.Connect(srv.URL, nats.RootCAs(cert), nats.Token("secret"))
	if err != nil {
		t.Fatalf("TLS client: %v", err)
	}
	defer nc.Close()
	if !nc.TLSRequired() {
		t.Error("connection without TLS")
	}
	if err := nc.Flush(); err != nil {
		t.Error(err)
	}
	// A client that does not trust the certificate, and one that insists
	// on plain text, are refused.
	if nc, err := nats.Connect(srv.URL, nats.Token("secret")); err == nil || !strings.Contains(err.Error(), "x509") {
		t.Errorf("client without the CA: %v", err)
		if nc != nil {
			nc.Close()
		}
	}
	addr := strings.TrimPrefix(srv.URL, "tls://")
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 4096)
	n, _ := conn.Read(buf) // INFO
	if !strings.Contains(string(buf[:n]), `"tls_required":true`) {
		t.Errorf("INFO: %s", buf[:n])
	}
	conn.Write([]byte("CONNECT {\"auth_token\":\"secret\"}\r\nPING\r\n"))
	n, _ = conn.Read(buf)
	if strings.Contains(string(buf[:n]), "PONG") {
		t.Errorf("plain-text client got %q", buf[:n])
	}
}

// Credentials are made once, 0600 in a 0700 directory, reused, and
// replaced only by RotateCredentials.
func TestCredentialsStable(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "credentials")
	a, err := coordinator.LoadCredentials(dir)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("credentials dir: %v, %v", fi.Mode(), err)
	}
	for _, r := range coordinator.Roles {
		if fi, err := os.Stat(a.CredentialFile(r)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, %v", r, fi.Mode(), err)
		}
	}
	b, err := coordinator.LoadCredentials(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range coordinator.Roles {
		if a.Public(r) != b.Public(r) || a.Public(r) == "" {
			t.Errorf("%s: %s, then %s", r, a.Public(r), b.Public(r))
		}
	}
	if a.Public(coordinator.RoleWorker) == a.Public(coordinator.RoleClient) {
		t.Error("two roles share a key")
	}
	if err := coordinator.RotateCredentials(dir, coordinator.RoleWorker); err != nil {
		t.Fatal(err)
	}
	c, err := coordinator.LoadCredentials(dir)
	if err != nil {
		t.Fatal(err)
	}
	if c.Public(coordinator.RoleWorker) == a.Public(coordinator.RoleWorker) || c.Public(coordinator.RoleClient) != a.Public(coordinator.RoleClient) {
		t.Error("rotating the worker's seed did not change it alone")
	}
	if err := coordinator.RotateCredentials(dir, "admin"); err == nil || !strings.Contains(err.Error(), "unknown role") {
		t.Errorf("rotate an unknown role: %v", err)
	}
	os.Chmod(c.CredentialFile(coordinator.RoleReader), 0o644)
	if _, err := coordinator.LoadCredentials(dir); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("a world-readable seed: %v", err)
	}
}
