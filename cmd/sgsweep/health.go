package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/urfave/cli/v2"

	"github.com/sgsweep/sgsweep/coordinator"
	"github.com/sgsweep/sgsweep/protocol"
	"github.com/sgsweep/sgsweep/results/store"
)

func init() { commands = append(commands, healthCommand) }

func healthCommand() *cli.Command {
	flags := []cli.Flag{
		dataDirFlag(),
		&cli.BoolFlag{Name: "coordinator", Usage: "also require the sgsweep streams and a coordinator answering its control API",
			EnvVars: []string{"SGSWEEP_HEALTH_COORDINATOR"}},
		&cli.StringFlag{Name: "nats-monitor", Usage: "check only the nats-server whose monitoring address is `URL` " +
			"(e.g. http://127.0.0.1:8222): its /healthz, which fails until JetStream is ready (and, on a cluster, " +
			"current with the meta leader)", EnvVars: []string{"SGSWEEP_HEALTH_NATS_MONITOR"}},
		&cli.DurationFlag{Name: "timeout", Value: 5 * time.Second, Usage: "time allowed for all checks",
			EnvVars: []string{"SGSWEEP_HEALTH_TIMEOUT"}},
		&cli.BoolFlag{Name: "json", Usage: "print the report as JSON", EnvVars: []string{"SGSWEEP_HEALTH_JSON"}},
	}
	flags = append(flags, natsFlags()...)
	return &cli.Command{
		Name:  "health",
		Usage: "check NATS, JetStream, the sgsweep streams and the coordinator; exit 0 if healthy, 1 if not",
		Description: "Connects to NATS like the other commands (--nats and credentials, or the embedded server of\n" +
			"--data-dir) and checks, one line each: the connection, JetStream, each sgsweep stream that exists\n" +
			"(its leader and replicas on a cluster), and with --coordinator that the streams exist and the\n" +
			"coordinator answers. With --nats-monitor it only asks a nats-server's monitoring endpoint.\n" +
			"Meant for container health checks (exec form: no shell needed) and for troubleshooting.\n\n" +
			"Examples:\n" +
			"  sgsweep health --coordinator                       # in the coordinator's container\n" +
			"  sgsweep health --nats-monitor http://127.0.0.1:8222 # in a NATS container",
		Flags:  flags,
		Action: runHealth,
	}
}

// healthReport is the outcome of `sgsweep health`.
type healthReport struct {
	Healthy bool          `json:"healthy"`
	Checks  []healthCheck `json:"checks"`
}

// healthCheck is one line of the report.
type healthCheck struct {
	// Name is nats, jetstream, stream <NAME>, coordinator or nats-monitor.
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
	// Server is the NATS server the check talked to (nats check).
	Server string `json:"server,omitempty"`
	// Leader is the server leading a stream; Replicas its replica count
	// and CurrentFollowers how many followers are caught up (streams on a
	// cluster only).
	Leader           string `json:"leader,omitempty"`
	Replicas         int    `json:"replicas,omitempty"`
	CurrentFollowers int    `json:"current_followers,omitempty"`
}

func (r *healthReport) add(c healthCheck) { r.Checks = append(r.Checks, c) }

func (r *healthReport) fail(name string, err error) {
	r.add(healthCheck{Name: name, Detail: err.Error()})
}

// firstFailure returns the first failed check, or nil.
func (r *healthReport) firstFailure() *healthCheck {
	for i := range r.Checks {
		if !r.Checks[i].OK {
			return &r.Checks[i]
		}
	}
	return nil
}

func runHealth(c *cli.Context) error {
	if c.NArg() != 0 {
		return usageError{fmt.Errorf("health takes no arguments, got %q", c.Args().Slice())}
	}
	log, err := newLogger(c)
	if err != nil {
		return usageError{err}
	}
	ctx, cancel := context.WithTimeout(c.Context, c.Duration("timeout"))
	defer cancel()
	var rep healthReport
	if url := c.String("nats-monitor"); url != "" {
		checkMonitor(ctx, url, &rep)
	} else {
		checkNATS(ctx, c, log, &rep)
	}
	rep.Healthy = rep.firstFailure() == nil
	if err := writeHealth(c.App.Writer, &rep, c.Bool("json")); err != nil {
		return err
	}
	if f := rep.firstFailure(); f != nil {
		return fmt.Errorf("unhealthy: %s check failed", f.Name)
	}
	return nil
}

// checkMonitor asks a nats-server's /healthz.
func checkMonitor(ctx context.Context, base string, rep *healthReport) {
	const name = "nats-monitor"
	url := strings.TrimSuffix(base, "/") + "/healthz"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		rep.fail(name, fmt.Errorf("--nats-monitor: %w", err))
		return
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		rep.fail(name, err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	detail := fmt.Sprintf("%s: %s %s", url, resp.Status, strings.TrimSpace(string(body)))
	rep.add(healthCheck{Name: name, OK: resp.StatusCode == http.StatusOK, Detail: detail})
}

// checkNATS connects, then checks JetStream, the streams and, if asked, the
// coordinator. It stops at the first check the others depend on.
func checkNATS(ctx context.Context, c *cli.Context, log *slog.Logger, rep *healthReport) {
	n := natsSettingsOf(c)
	if err := n.resolve(dataDirOf(c), coordinator.RoleClient); err != nil {
		rep.fail("nats", err)
		return
	}
	nc, err := connectNATS(ctx, n, "sgsweep-health", false, log)
	if err != nil {
		rep.fail("nats", err)
		return
	}
	defer nc.Close()
	rep.add(natsCheck(nc))

	js, err := jetstream.New(nc)
	if err != nil {
		rep.fail("jetstream", err)
		return
	}
	info, err := js.AccountInfo(ctx)
	if err != nil {
		rep.fail("jetstream", err)
		return
	}
	rep.add(healthCheck{Name: "jetstream", OK: true, Detail: fmt.Sprintf("%d streams, %d consumers, %s stored",
		info.Streams, info.Consumers, byteSize(info.Store))})

	wantCoordinator := c.Bool("coordinator")
	for _, name := range []string{protocol.StreamTasks, protocol.StreamResults, protocol.StreamDeadLetters} {
		checkStream(ctx, js, name, wantCoordinator, rep)
	}
	if wantCoordinator {
		checkCoordinator(ctx, nc, rep)
	}
}

// natsCheck describes the connection.
func natsCheck(nc *nats.Conn) healthCheck {
	detail := fmt.Sprintf("%s: server %s", nc.ConnectedUrlRedacted(), nc.ConnectedServerName())
	if cluster := nc.ConnectedClusterName(); cluster != "" {
		detail += ", cluster " + cluster
	}
	if rtt, err := nc.RTT(); err == nil {
		detail += fmt.Sprintf(", rtt %s", rtt.Round(time.Microsecond))
	}
	return healthCheck{Name: "nats", OK: true, Detail: detail, Server: nc.ConnectedServerName()}
}

// checkStream reports a stream: its size, and on a cluster its leader and
// how many followers are current. A stream without a leader is unhealthy
// (nothing can be stored); a missing one only when required.
func checkStream(ctx context.Context, js jetstream.JetStream, name string, required bool, rep *healthReport) {
	label := "stream " + name
	s, err := js.Stream(ctx, name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		if required {
			rep.fail(label, errors.New("missing: the coordinator creates it when it starts"))
		} else {
			rep.add(healthCheck{Name: label, OK: true, Detail: "not created yet (the coordinator creates it)"})
		}
		return
	}
	if err != nil {
		rep.fail(label, err)
		return
	}
	info := s.CachedInfo()
	chk := healthCheck{Name: label, OK: true, Replicas: info.Config.Replicas,
		Detail: fmt.Sprintf("%d messages, %d replicas", info.State.Msgs, info.Config.Replicas)}
	if cl := info.Cluster; cl != nil && info.Config.Replicas > 1 {
		chk.Leader = cl.Leader
		for _, p := range cl.Replicas {
			if p.Current {
				chk.CurrentFollowers++
			}
		}
		if cl.Leader == "" {
			chk.OK = false
			chk.Detail += ", no leader (too few servers up for a quorum?)"
		} else {
			chk.Detail += fmt.Sprintf(", leader %s, %d of %d followers current", cl.Leader, chk.CurrentFollowers, len(cl.Replicas))
		}
	}
	rep.add(chk)
}

// checkCoordinator asks the coordinator for its status.
func checkCoordinator(ctx context.Context, nc *nats.Conn, rep *healthReport) {
	st, err := coordinator.NewClient(nc).Status(ctx, coordinator.StatusRequest{})
	if err != nil {
		rep.fail("coordinator", err)
		return
	}
	running := 0
	for _, s := range st.Sweeps {
		if s.State == store.SweepRunning {
			running++
		}
	}
	rep.add(healthCheck{Name: "coordinator", OK: true, Detail: fmt.Sprintf("answers: %d sweeps, %d running", len(st.Sweeps), running)})
}

func writeHealth(w io.Writer, rep *healthReport, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	width := 0
	for _, c := range rep.Checks {
		width = max(width, len(c.Name))
	}
	for _, c := range rep.Checks {
		mark := "ok  "
		if !c.OK {
			mark = "FAIL"
		}
		if _, err := fmt.Fprintf(w, "%s  %-*s  %s\n", mark, width, c.Name, c.Detail); err != nil {
			return err
		}
	}
	return nil
}

// byteSize formats a byte count with a binary unit.
func byteSize(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
