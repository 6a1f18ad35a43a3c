package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/urfave/cli/v2"

	"github.com/sgsweep/sgsweep/coordinator"
	"github.com/sgsweep/sgsweep/dashboard"
	"github.com/sgsweep/sgsweep/results/store"
)

func init() { commands = append(commands, coordinatorCommand) }

func coordinatorCommand() *cli.Command {
	flags := []cli.Flag{
		dataDirFlag(),
		&cli.StringFlag{Name: "listen", Value: "127.0.0.1:0", Usage: "embedded NATS server's client address `HOST:PORT` " +
			"(port 0: random); use 0.0.0.0:4222 for workers on other machines (needs --tls-cert and --tls-key, " +
			"or --insecure)", EnvVars: []string{"SGSWEEP_LISTEN"}},
		&cli.BoolFlag{Name: "insecure", Usage: "let the embedded server listen beyond loopback without TLS (credentials " +
			"and results cross the network in clear)", EnvVars: []string{"SGSWEEP_INSECURE"}},
	}
	flags = append(flags, natsFlags()...)
	flags = append(flags, coordinatorFlags()...)
	flags = append(flags, httpFlags("")...)
	return &cli.Command{
		Name:  "coordinator",
		Usage: "run the coordinator as a service: plans submitted sweeps, queues tasks, stores results",
		Description: "Opens the results store of --data-dir (only one coordinator per store: a second one fails within\n" +
			"a second), starts an embedded NATS server with JetStream (or connects to --nats), resumes every\n" +
			"running sweep and serves submit, status, results, cancel and retry until SIGINT/SIGTERM.\n" +
			"With the embedded server, nats.json in the data dir says how to reach it and credentials/ holds one\n" +
			"nkey per role (coordinator, worker, client, reader; made at the first start, kept across restarts,\n" +
			"replaced by `sgsweep credentials rotate`): `sgsweep worker`, `submit` and `status` with the same\n" +
			"--data-dir find both; workers elsewhere need --nats and --nats-nkey with a copy of worker.nk.\n" +
			"Listening beyond loopback requires TLS (--tls-cert, --tls-key) unless --insecure.",
		Flags:  flags,
		Action: runCoordinator,
	}
}

// coordinatorFlags are the coordinator's tuning flags (run and coordinator).
func coordinatorFlags() []cli.Flag {
	def := coordinator.DefaultConfig()
	return []cli.Flag{
		&cli.StringFlag{Name: "backoff", Value: formatDurations(def.BackOff),
			Usage: "ack deadlines of a task's successive deliveries, comma-separated (the last repeats); the first " +
				"is the ack wait: a task whose worker stops heartbeating is redelivered after it",
			EnvVars: []string{"SGSWEEP_BACKOFF"}},
		&cli.IntFlag{Name: "max-deliver", Value: def.MaxDeliver,
			Usage: "deliveries of a task before it is recorded failed", EnvVars: []string{"SGSWEEP_MAX_DELIVER"}},
		&cli.IntFlag{Name: "max-ack-pending", Value: def.MaxAckPending,
			Usage:   "most tasks running at once over all workers (at least the total worker slots)",
			EnvVars: []string{"SGSWEEP_MAX_ACK_PENDING"}},
		&cli.IntFlag{Name: "publish-window", Value: def.PublishWindow,
			Usage: "task publications in flight at once", EnvVars: []string{"SGSWEEP_PUBLISH_WINDOW"}},
		&cli.IntFlag{Name: "replicas", Value: def.Replicas,
			Usage: "stream replicas (3 on a NATS cluster)", EnvVars: []string{"SGSWEEP_REPLICAS"}},
		&cli.DurationFlag{Name: "backup-every", Value: def.BackupEvery,
			Usage:   "write a checked backup of the store into backups/ of --data-dir this often (0: never)",
			EnvVars: []string{"SGSWEEP_BACKUP_EVERY"}},
		&cli.IntFlag{Name: "backup-keep", Value: def.BackupKeep,
			Usage: "backups kept (the newest); older ones are removed", EnvVars: []string{"SGSWEEP_BACKUP_KEEP"}},
		&cli.DurationFlag{Name: "results-retention", Value: def.ResultsRetention,
			Usage: "keep a copy of every result in the results archive stream this long, for `sgsweep store " +
				"rebuild` (0: no archive)", EnvVars: []string{"SGSWEEP_RESULTS_RETENTION"}},
		&cli.DurationFlag{Name: "lease-ttl", Value: coordinator.DefaultLeaseTTL,
			Usage: "the coordinator lease's lifetime, renewed every third of it: one coordinator per NATS " +
				"deployment; a crashed coordinator elsewhere blocks a successor this long", EnvVars: []string{"SGSWEEP_LEASE_TTL"}},
		&cli.BoolFlag{Name: "sync-always", Value: true,
			Usage: "embedded server: fsync each message before acknowledging it (no loss on a machine crash; " +
				"--sync-always=false is faster and may lose the last two minutes)", EnvVars: []string{"SGSWEEP_SYNC_ALWAYS"}},
	}
}

// coordinatorConfigOf reads the tuning flags.
func coordinatorConfigOf(c *cli.Context, log *slog.Logger) (coordinator.Config, error) {
	cfg := coordinator.DefaultConfig()
	backoff, err := parseDurations(c.String("backoff"))
	if err != nil {
		return cfg, usageError{fmt.Errorf("--backoff: %w", err)}
	}
	cfg.BackOff, cfg.AckWait = backoff, backoff[0]
	cfg.MaxDeliver = c.Int("max-deliver")
	cfg.MaxAckPending = c.Int("max-ack-pending")
	cfg.MaxWaiting = max(cfg.MaxWaiting, cfg.MaxAckPending)
	cfg.PublishWindow = c.Int("publish-window")
	cfg.Replicas = c.Int("replicas")
	cfg.BackupEvery, cfg.BackupKeep = c.Duration("backup-every"), c.Int("backup-keep")
	cfg.ResultsRetention = c.Duration("results-retention")
	cfg.Logger = log
	if err := cfg.Validate(); err != nil {
		return cfg, usageError{err}
	}
	return cfg, nil
}

func parseDurations(s string) ([]time.Duration, error) {
	var out []time.Duration
	for _, f := range strings.Split(s, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(f))
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

func formatDurations(ds []time.Duration) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		s := d.String()
		s, _ = strings.CutSuffix(s, "m0s")
		if s != d.String() {
			s += "m"
		}
		parts[i] = s
	}
	return strings.Join(parts, ",")
}

func runCoordinator(c *cli.Context) error {
	if c.NArg() != 0 {
		return usageError{fmt.Errorf("coordinator takes no arguments, got %q", c.Args().Slice())}
	}
	log, err := newLogger(c)
	if err != nil {
		return usageError{err}
	}
	cfg, err := coordinatorConfigOf(c, log)
	if err != nil {
		return err
	}
	b, err := startBackend(c, log, c.String("listen"))
	if err != nil {
		return err
	}
	defer b.close()
	if b.srv != nil {
		printHandOff(c.App.ErrWriter, b)
	}
	coord, err := b.newCoordinator(cfg)
	if err != nil {
		return err
	}
	stopDashboard, err := startDashboard(c, log, dashboard.CoordinatorSource(b.store, coord), coord)
	if err != nil {
		return err
	}
	go func() {
		select {
		case <-coord.Ready():
			log.Info("coordinator ready", "nats", redact(b.nats.URLs), "store", b.store.Path())
		case <-c.Context.Done():
		}
	}()
	err = coord.Run(c.Context)
	if derr := stopDashboard(); derr != nil && err == nil {
		err = fmt.Errorf("dashboard: %w", derr)
	}
	return err
}

// backend is what a coordinator process holds: the store (locked), the
// embedded NATS server unless --nats names one, and a connection.
type backend struct {
	dir   dataDir
	store *store.Store
	srv   *coordinator.Server // nil with an external server
	nats  natsSettings
	nc    *nats.Conn
	conns []*nats.Conn
	log   *slog.Logger
	// lease is the deployment's coordinator lease; stopLease stops its
	// renewal and returns once the renewal has ended.
	lease     *coordinator.Lease
	stopLease func()
}

// startBackend opens the store first (its lock makes a second coordinator on
// the data dir fail within a second, before it touches the NATS store), then
// starts the embedded server on listen (unless --nats is set) and connects.
func startBackend(c *cli.Context, log *slog.Logger, listen string) (*backend, error) {
	b := &backend{dir: dataDirOf(c), nats: natsSettingsOf(c), log: log}
	if err := os.MkdirAll(string(b.dir), 0o755); err != nil {
		return nil, err
	}
	var err error
	b.store, err = store.Open(b.dir.statePath(), nil)
	if errors.Is(err, store.ErrLocked) {
		return nil, fmt.Errorf("another sgsweep coordinator is using %s: %w", b.dir, err)
	}
	if err != nil {
		return nil, err
	}
	if b.nats.URLs == "" {
		if err := b.startServer(c, listen); err != nil {
			b.close()
			return nil, err
		}
	}
	b.nc, err = b.connect(c.Context, "sgsweep-coordinator")
	if err != nil {
		b.close()
		return nil, err
	}
	if err := b.takeLease(c); err != nil {
		b.close()
		return nil, err
	}
	return b, nil
}

// newCoordinator makes the coordinator over the backend's store and
// connection, with the data dir's task ticket key (made at the first
// start, kept beside the credentials): tickets issued before a restart
// stay valid after it.
func (b *backend) newCoordinator(cfg coordinator.Config) (*coordinator.Coordinator, error) {
	key, err := coordinator.LoadTicketKey(b.dir.credentialsDir())
	if err != nil {
		return nil, err
	}
	cfg.TicketKey = key
	return coordinator.New(b.store, b.nc, cfg)
}

// takeLease takes the deployment's coordinator lease before anything
// touches the streams, and keeps renewing it. A coordinator that loses its
// lease (it could not renew it in time and another took it) exits at once:
// two coordinators would split the results between their stores.
func (b *backend) takeLease(c *cli.Context) error {
	js, err := jetstream.New(b.nc)
	if err != nil {
		return err
	}
	host, _ := os.Hostname()
	holder := coordinator.LeaseHolder{Host: host, DataDir: absPath(string(b.dir)), PID: os.Getpid(), Since: time.Now()}
	// A NATS cluster that is still electing its leaders answers late.
	ctx, cancel := context.WithTimeout(c.Context, 2*time.Minute)
	defer cancel()
	b.lease, err = coordinator.AcquireLease(ctx, js, holder, c.Duration("lease-ttl"), c.Int("replicas"), b.log)
	if err != nil {
		return err
	}
	keepCtx, stop := context.WithCancel(context.Background())
	kept := make(chan struct{})
	b.stopLease = func() { stop(); <-kept } // Keep owns the lease until it returns
	go func() {
		defer close(kept)
		if err := b.lease.Keep(keepCtx, b.log); err != nil {
			b.log.Error("stopping at once", "err", err)
			os.Exit(1)
		}
	}()
	return nil
}

// startServer starts the embedded server and writes nats.json.
func (b *backend) startServer(c *cli.Context, listen string) error {
	host, portText, err := net.SplitHostPort(listen)
	if err != nil {
		return usageError{fmt.Errorf("--listen %q: %w", listen, err)}
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return usageError{fmt.Errorf("--listen %q: port: %w", listen, err)}
	}
	if b.nats.hasAuth() {
		return usageError{fmt.Errorf("--nats-token, --nats-user, --nats-password, --nats-creds and --nats-nkey are for "+
			"an external server (--nats); the embedded server admits only the per-role nkeys of %s "+
			"(see `sgsweep credentials`)", b.dir.credentialsDir())}
	}
	creds, err := coordinator.LoadCredentials(b.dir.credentialsDir())
	if err != nil {
		return err
	}
	tlsCert, tlsKey := b.nats.TLSCert, b.nats.TLSKey
	b.nats.TLSCert, b.nats.TLSKey = "", "" // the server's, not a client certificate
	b.srv, err = coordinator.StartServer(coordinator.ServerOptions{StoreDir: b.dir.natsDir(), Host: host, Port: port,
		Credentials: creds, TLSCert: tlsCert, TLSKey: tlsKey, Insecure: c.Bool("insecure"),
		SyncAlways: c.Bool("sync-always"), Logger: b.log})
	if err != nil {
		return usageError{err}
	}
	b.nats.URLs = b.srv.URL
	b.nats.NKey = creds.CredentialFile(coordinator.RoleCoordinator)
	return b.dir.writeConn(connInfo{URL: b.srv.URL, CA: absPath(tlsCert), PID: os.Getpid(), Started: time.Now().UTC()})
}

// absPath is path made absolute ("" stays "").
func absPath(path string) string {
	if path == "" {
		return ""
	}
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return path
}

// printHandOff says how workers and clients on other machines join the
// embedded server: which credential file to copy, and the flags.
func printHandOff(w io.Writer, b *backend) {
	url := b.srv.URL
	worker := b.dir.credentialFile(coordinator.RoleWorker)
	tlsCA := ""
	if info, err := b.dir.readConn(); err == nil && info.CA != "" {
		tlsCA = " --tls-ca " + filepath.Base(info.CA)
	}
	fmt.Fprintf(w, "NATS: %s, per-role credentials in %s (mode 0600; `sgsweep credentials` lists them).\n"+
		"Workers on other machines: copy %s there (keep it mode 0600; it lets its holder take tasks and publish "+
		"results) and run\n  sgsweep worker --nats %s --nats-nkey worker.nk%s\n"+
		"Clients: client.nk (control), reader.nk (status and results only), the same way.\n",
		url, b.dir.credentialsDir(), worker, url, tlsCA)
}

// connect opens another connection to the backend's server: in-process for
// the embedded one.
func (b *backend) connect(ctx context.Context, name string) (*nats.Conn, error) {
	n := b.nats
	var nc *nats.Conn
	var err error
	if b.srv != nil {
		opts, oerr := n.options(name, b.log)
		if oerr != nil {
			return nil, oerr
		}
		nc, err = nats.Connect("", append(opts, nats.InProcessServer(b.srv.Server))...)
	} else {
		nc, err = connectNATS(ctx, n, name, true, b.log)
		if err == nil {
			// Refused on reconnection (rotated credentials): nothing
			// this process does can work any more.
			n.exitOnRefusal(nc, func(err error) {
				b.log.Error("stopping at once", "err", err)
				os.Exit(1)
			})
		}
	}
	if err != nil {
		return nil, err
	}
	b.conns = append(b.conns, nc)
	return nc, nil
}

// close releases the lease, drains the connections, stops the server and
// closes the store.
func (b *backend) close() {
	if b.lease != nil {
		b.stopLease()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := b.lease.Release(ctx); err != nil {
			b.log.Warn("releasing the coordinator lease", "err", err)
		}
		cancel()
	}
	for i := len(b.conns) - 1; i >= 0; i-- {
		drain(b.conns[i])
	}
	if b.srv != nil {
		b.srv.Stop()
		b.dir.removeConn()
	}
	if b.store != nil {
		b.store.Close()
	}
}

// drain flushes what the connection has queued (acks, naks) and closes it,
// waiting at most a few seconds.
func drain(nc *nats.Conn) {
	if nc.IsClosed() {
		return
	}
	closed := make(chan struct{})
	nc.SetClosedHandler(func(*nats.Conn) { close(closed) })
	if err := nc.Drain(); err != nil {
		nc.Close()
		return
	}
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		nc.Close()
	}
}
