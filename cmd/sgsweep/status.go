package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/urfave/cli/v2"

	"github.com/sgsweep/sgsweep/coordinator"
	"github.com/sgsweep/sgsweep/protocol"
	"github.com/sgsweep/sgsweep/results/store"
)

func init() { commands = append(commands, statusCommand) }

func statusCommand() *cli.Command {
	flags := []cli.Flag{
		dataDirFlag(),
		&cli.BoolFlag{Name: "watch", Usage: "refresh until interrupted, with the running tasks' latest epochs",
			EnvVars: []string{"SGSWEEP_WATCH"}},
		&cli.DurationFlag{Name: "interval", Value: 2 * time.Second, Usage: "refresh interval of --watch",
			EnvVars: []string{"SGSWEEP_WATCH_INTERVAL"}},
		&cli.BoolFlag{Name: "json", Usage: "print the status as JSON", EnvVars: []string{"SGSWEEP_STATUS_JSON"}},
	}
	return &cli.Command{
		Name:      "status",
		Usage:     "show sweeps: counts by state (done, failed, stopped early, pending), throughput, ETA, failures and conflicts",
		ArgsUsage: "[SWEEP]",
		Description: "Asks the running coordinator (over NATS: --nats, or the embedded server of --data-dir); when\n" +
			"none answers, reads the store of --data-dir directly (then without rate, ETA and queue). A store\n" +
			"held by a coordinator that does not answer is reported as such, never waited for.",
		Flags:  append(flags, natsFlags()...),
		Action: runStatus,
	}
}

func runStatus(c *cli.Context) error {
	if c.NArg() > 1 {
		return usageError{fmt.Errorf("status takes at most one sweep name, got %d arguments", c.NArg())}
	}
	src := newReadSource(c, readOptions{connErrReadsStore: true})
	defer src.close()
	if _, err := src.logger(); err != nil {
		return err
	}
	name := c.Args().First()
	if !c.Bool("watch") {
		st, err := sweepStatus(c.Context, src, name)
		if err != nil {
			return err
		}
		return printStatus(c.App.Writer, st, c.Bool("json"), nil)
	}
	live := watchProgress(src.conn(), name)
	tick := time.NewTicker(c.Duration("interval"))
	defer tick.Stop()
	for {
		st, err := sweepStatus(c.Context, src, name)
		if err != nil && c.Context.Err() == nil {
			return err
		}
		if err == nil {
			if isTerminal(c.App.Writer) && !c.Bool("json") {
				fmt.Fprint(c.App.Writer, "\033[H\033[2J")
			}
			if err := printStatus(c.App.Writer, st, c.Bool("json"), live.recent(3*c.Duration("interval"))); err != nil {
				return err
			}
		}
		select {
		case <-c.Context.Done():
			return nil
		case <-tick.C:
		}
	}
}

// sweepStatus gets the status of the sweep (all sweeps when name is empty)
// from the coordinator, or from the store when no coordinator answers.
func sweepStatus(ctx context.Context, src *readSource, name string) (*coordinator.Status, error) {
	return askOrRead(ctx, src,
		func(ctx context.Context, client *coordinator.Client) (*coordinator.Status, error) {
			rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			return client.Status(rctx, coordinator.StatusRequest{Sweep: name})
		},
		func(ctx context.Context, st *store.Store) (*coordinator.Status, error) {
			return coordinator.StoreStatus(ctx, st, name)
		})
}

// liveProgress keeps the latest progress message of each running task.
type liveProgress struct {
	mu     sync.Mutex
	latest map[string]progressSeen
}

type progressSeen struct {
	msg *protocol.ProgressMsg
	at  time.Time
}

// watchProgress subscribes to the progress messages of the sweep (all sweeps
// when name is empty) on the NATS connection nc, if connected.
func watchProgress(nc *nats.Conn, name string) *liveProgress {
	live := &liveProgress{latest: map[string]progressSeen{}}
	if nc == nil {
		return live
	}
	subject := protocol.ProgressSubjects
	if name != "" {
		subject = protocol.SweepProgressSubjects(name)
	}
	// A failed subscription leaves the status without running tasks.
	nc.Subscribe(subject, func(m *nats.Msg) {
		p, err := protocol.DecodeProgress(m.Data)
		if err != nil {
			return
		}
		live.mu.Lock()
		live.latest[p.Sweep+"/"+p.TaskID] = progressSeen{p, time.Now()}
		live.mu.Unlock()
	})
	return live
}

// recent returns the progress of tasks heard from within maxAge, newest
// first.
func (l *liveProgress) recent(maxAge time.Duration) []*protocol.ProgressMsg {
	l.mu.Lock()
	defer l.mu.Unlock()
	var seen []progressSeen
	for k, p := range l.latest {
		if time.Since(p.at) > maxAge {
			delete(l.latest, k)
			continue
		}
		seen = append(seen, p)
	}
	slices.SortFunc(seen, func(a, b progressSeen) int { return b.at.Compare(a.at) })
	out := make([]*protocol.ProgressMsg, len(seen))
	for i, p := range seen {
		out[i] = p.msg
	}
	return out
}

// printStatus writes the status for people (or as JSON), with the running
// tasks' latest epochs if any.
func printStatus(w io.Writer, st *coordinator.Status, asJSON bool, running []*protocol.ProgressMsg) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	}
	from := "from the coordinator"
	if st.Source == coordinator.SourceStore {
		from = "from the store; no coordinator is running"
	}
	if len(st.Sweeps) == 0 {
		fmt.Fprintf(w, "no sweeps (%s)\n", from)
	}
	for i, s := range st.Sweeps {
		if i > 0 {
			fmt.Fprintln(w)
		}
		printSweepStatus(w, &s, st, from)
	}
	if st.Totals.Rejected > 0 {
		fmt.Fprintf(w, "\n%d unusable messages set aside in the store; the last:\n", st.Totals.Rejected)
		for _, r := range st.Rejected {
			fmt.Fprintf(w, "  %s: %s\n", r.Subject, r.Reason)
		}
	}
	if st.Orphans > 0 {
		fmt.Fprintf(w, "\n%d orphan results (for tasks that were not handed out; never used), the last:\n", st.Orphans)
		for _, o := range st.OrphanList {
			fmt.Fprintf(w, "  %s from %q on %q: %s\n", o.Subject, o.Worker, o.Host, o.Reason)
		}
	}
	if len(running) > 0 {
		fmt.Fprintln(w, "\nrunning tasks (latest epoch):")
		for i, p := range running {
			if i == 10 {
				fmt.Fprintf(w, "  … and %d more\n", len(running)-10)
				break
			}
			fmt.Fprintf(w, "  %s %s  epoch %d/%d  loss %.4g  train %.3f  val %.3f  (%s, attempt %d)\n",
				p.Sweep, shortID(p.TaskID), p.Epoch.Epoch, p.Epochs, p.Epoch.TrainLoss, p.Epoch.TrainAcc,
				p.Epoch.ValAcc, p.Worker, p.Attempt)
		}
	}
	return nil
}

func printSweepStatus(w io.Writer, s *coordinator.SweepStatus, st *coordinator.Status, from string) {
	pct := 0.0
	if s.Expected > 0 {
		pct = 100 * float64(s.Done+s.Stopped+s.Failed) / float64(s.Expected)
	}
	fmt.Fprintf(w, "%s  %s  (%s)\n", s.Name, s.State, from)
	fmt.Fprintf(w, "  tasks      %d: %d done (%d diverged), %d failed, %d stopped, %d pending  %.1f%%\n",
		s.Expected, s.Done, s.Diverged, s.Failed, s.Stopped, s.Pending, pct)
	if st.Source == coordinator.SourceCoordinator && s.State == store.SweepRunning {
		fmt.Fprintf(w, "  rate       %.2f tasks/s  ETA %s\n", st.Rate, formatETA(s.ETASeconds))
		if q := st.Queue; q != nil {
			fmt.Fprintf(w, "  queue      %d waiting, %d running (%d redelivered), %d idle worker slots (all sweeps)\n",
				q.Waiting, q.Running, q.Redelivered, q.IdleSlots)
		}
	}
	if s.Duplicates > 0 {
		fmt.Fprintf(w, "  duplicates %d identical results received again, stored once\n", s.Duplicates)
	}
	if s.Conflicts > 0 {
		fmt.Fprintf(w, "  conflicts  %d differing results of tasks that had one (kept aside; the first is used):\n", s.Conflicts)
		for _, c := range s.ConflictList {
			fmt.Fprintf(w, "    %s  stored %s, other %s by %s\n", shortID(c.TaskID), shortID(c.Stored), shortID(c.Other), c.Worker)
		}
	}
	if s.Verified > 0 || s.Disputed > 0 {
		fmt.Fprintf(w, "  verified   %d tasks recomputed by another worker with the same result, %d disputed\n",
			s.Verified, s.Disputed)
		for _, d := range s.DisputeList {
			fmt.Fprintf(w, "    #%d %s  differing results by %s (the first is used; retry --disputed settles it)\n",
				d.Ordinal, shortID(d.TaskID), strings.Join(d.Workers, ", "))
		}
	}
	if len(s.FailedList) > 0 {
		fmt.Fprintf(w, "  failures   (first %d of %d)\n", len(s.FailedList), s.Failed)
		for _, f := range s.FailedList {
			fmt.Fprintf(w, "    #%d %s after %d deliveries: %s\n", f.Ordinal, shortID(f.TaskID), f.Attempts, firstLine(f.Error))
		}
	}
	when := "  created    " + s.Created.Format(time.DateTime) + " UTC"
	if !s.Finished.IsZero() {
		when += ", finished " + s.Finished.Format(time.DateTime) + " UTC"
	}
	fmt.Fprintln(w, when)
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
