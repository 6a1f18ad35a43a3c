package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/urfave/cli/v2"

	"github.com/sgsweep/sgsweep/coordinator"
	"github.com/sgsweep/sgsweep/results/store"
)

func init() { commands = append(commands, storeCommand) }

// storeCommand is `sgsweep store check|backup|rebuild`.
func storeCommand() *cli.Command {
	withNATS := func(flags ...cli.Flag) []cli.Flag {
		return append(append([]cli.Flag{dataDirFlag()}, flags...), natsFlags()...)
	}
	return &cli.Command{
		Name:  "store",
		Usage: "check, back up and rebuild the results store",
		Description: "check:   checks the store of --data-dir completely: bbolt's page structure and the store's own\n" +
			"         invariants (every sweep's counters recounted from its tasks). Exit status 1 if damaged.\n" +
			"backup:  writes a consistent copy of the store to FILE, also while a coordinator runs (it writes\n" +
			"         the copy; same host), and checks the copy.\n" +
			"rebuild: makes a new store from a backup plus the results the NATS server still holds (the results\n" +
			"         archive, kept --results-retention, and results not yet committed), read without consuming\n" +
			"         them, and says what it recovered. The new store goes to --out, by default state.db of\n" +
			"         --data-dir, which must not exist: move a damaged store aside first. Without --nats it\n" +
			"         starts the embedded server of --data-dir (the coordinator must be stopped).\n\n" +
			"Examples:\n" +
			"  sgsweep store check --data-dir ./sgsweep-data\n" +
			"  sgsweep store backup /backups/state-$(date +%F).db\n" +
			"  mv sgsweep-data/state.db sgsweep-data/state.db.damaged\n" +
			"  sgsweep store rebuild --from sgsweep-data/backups/state-20260101T120000.000Z.db",
		Subcommands: []*cli.Command{
			{Name: "check", Usage: "check the store completely", Flags: withNATS(), Action: runStoreCheck},
			{Name: "backup", Usage: "write a checked, consistent copy of the store", ArgsUsage: "FILE",
				Flags: withNATS(), Action: runStoreBackup},
			{Name: "rebuild", Usage: "make a new store from a backup and the retained results",
				Flags: withNATS(
					&cli.StringFlag{Name: "from", Usage: "the backup `FILE` to start from"},
					&cli.StringFlag{Name: "out", Usage: "the new store `FILE` (default: state.db of --data-dir, which must not exist)"},
				), Action: runStoreRebuild},
		},
	}
}

// openForCopy opens the store of --data-dir read-only, or while a
// coordinator holds it, a snapshot that the coordinator writes (see
// readSource.openStore); release closes it.
func openForCopy(c *cli.Context) (*store.Store, func(), error) {
	src := newReadSource(c, readOptions{snapshot: true})
	st, release, err := src.openStore(c.Context)
	if err != nil {
		src.close()
		return nil, nil, err
	}
	return st, func() { release(); src.close() }, nil
}

func runStoreCheck(c *cli.Context) error {
	if c.NArg() != 0 {
		return usageError{fmt.Errorf("store check takes no arguments, got %q", c.Args().Slice())}
	}
	st, release, err := openForCopy(c)
	if err != nil {
		return err
	}
	defer release()
	path := dataDirOf(c).statePath()
	what := path
	if st.Path() != path {
		what = fmt.Sprintf("%s (a snapshot written by the running coordinator)", path)
	}
	rep, err := st.Verify(c.Context, true)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "%s: ok (%s, %d sweeps, %d tasks, %d results; checked in %v)\n",
		what, mib(rep.Size), rep.Sweeps, rep.Tasks, rep.Results, rep.Elapsed.Round(time.Millisecond))
	return nil
}

func runStoreBackup(c *cli.Context) error {
	if c.NArg() != 1 {
		return usageError{fmt.Errorf("store backup takes one FILE, got %d arguments", c.NArg())}
	}
	out := c.Args().First()
	if info, err := os.Stat(out); err == nil && info.IsDir() {
		return usageError{fmt.Errorf("store backup: %s is a directory; name the backup file", out)}
	}
	st, release, err := openForCopy(c)
	if err != nil {
		return err
	}
	err = st.Snapshot(c.Context, out)
	release()
	if err != nil {
		return err
	}
	rep, err := coordinator.VerifyFile(c.Context, out, true)
	if err != nil {
		os.Remove(out)
		return fmt.Errorf("the backup failed its check and was removed: %w", err)
	}
	fmt.Fprintf(c.App.Writer, "backup of %s written to %s: %s, %d sweeps, %d tasks, %d results, checked\n",
		dataDirOf(c).statePath(), out, mib(rep.Size), rep.Sweeps, rep.Tasks, rep.Results)
	return nil
}

func runStoreRebuild(c *cli.Context) error {
	if c.NArg() != 0 {
		return usageError{fmt.Errorf("store rebuild takes no arguments, got %q", c.Args().Slice())}
	}
	from := c.String("from")
	if from == "" {
		return usageError{errors.New("store rebuild: --from BACKUP is required (the coordinator keeps backups in backups/ of --data-dir)")}
	}
	log, err := newLogger(c)
	if err != nil {
		return usageError{err}
	}
	dir := dataDirOf(c)
	out := c.String("out")
	if out == "" {
		out = dir.statePath()
	}
	if _, err := os.Lstat(out); err == nil {
		return fmt.Errorf("store rebuild: %s exists; move it aside first (e.g. mv %s %s.damaged): a rebuild never overwrites a store",
			out, out, out)
	}
	nc, stop, err := rebuildConn(c, dir)
	if err != nil {
		return err
	}
	defer stop()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	log.Debug("rebuilding", "from", from, "out", out)
	// The coordinator's ticket key proves which results it handed out; a
	// data dir without one (lost) recovers results unchecked.
	var key []byte
	if _, err := os.Stat(filepath.Join(dir.credentialsDir(), coordinator.TicketKeyFile)); err == nil {
		if key, err = coordinator.LoadTicketKey(dir.credentialsDir()); err != nil {
			return err
		}
	} else {
		log.Warn("no task ticket key in the data dir: results are recovered without the ticket check",
			"dir", dir.credentialsDir())
	}
	rep, err := coordinator.Rebuild(c.Context, js, from, out, key)
	if err != nil {
		return err
	}
	printRebuild(c.App.Writer, rep)
	return nil
}

// rebuildConn connects to the NATS server of the flags or of nats.json, or,
// when none answers, starts the embedded server over the data dir's NATS
// store (the coordinator is stopped) and connects in process.
func rebuildConn(c *cli.Context, dir dataDir) (*nats.Conn, func(), error) {
	log, err := newLogger(c)
	if err != nil {
		return nil, nil, err
	}
	n := natsSettingsOf(c)
	explicit := n.URLs != ""
	if err := n.resolve(dir, coordinator.RoleCoordinator); err == nil {
		nc, err := connectNATS(c.Context, n, "sgsweep-rebuild", false, log)
		if err == nil {
			return nc, nc.Close, nil
		}
		if explicit || !errors.Is(err, errNoServer) {
			return nil, nil, err
		}
	} else if explicit || !errors.Is(err, errNoServer) {
		return nil, nil, err
	}
	if _, err := os.Stat(dir.natsDir()); err != nil {
		return nil, nil, fmt.Errorf("store rebuild: no NATS server answers and %s holds no embedded server's store: %w "+
			"(pass --nats URL)", dir, err)
	}
	creds, err := coordinator.LoadCredentials(dir.credentialsDir())
	if err != nil {
		return nil, nil, err
	}
	srv, err := coordinator.StartServer(coordinator.ServerOptions{StoreDir: dir.natsDir(), Credentials: creds, Logger: log})
	if err != nil {
		return nil, nil, err
	}
	n.URLs, n.NKey = srv.URL, creds.CredentialFile(coordinator.RoleCoordinator)
	opts, err := n.options("sgsweep-rebuild", log)
	if err != nil {
		srv.Stop()
		return nil, nil, err
	}
	nc, err := nats.Connect("", append(opts, nats.InProcessServer(srv.Server))...)
	if err != nil {
		srv.Stop()
		return nil, nil, err
	}
	return nc, func() { nc.Close(); srv.Stop() }, nil
}

// printRebuild says what a rebuild recovered, and what it could not.
func printRebuild(w io.Writer, rep *coordinator.RebuildReport) {
	fmt.Fprintf(w, "rebuilt %s from %s (written %s)\n", rep.Out, rep.Backup, rep.BackupTime.UTC().Format(time.RFC3339))
	since := "empty"
	if !rep.ArchiveSince.IsZero() {
		since = "since " + rep.ArchiveSince.UTC().Format(time.RFC3339)
	}
	fmt.Fprintf(w, "  read %d results from the results archive (%s) and %d not yet committed from the results stream\n",
		rep.Archive, since, rep.Queue)
	fmt.Fprintf(w, "  recovered %d results the backup lacked; %d it had already; %d conflicting (kept aside); %d unusable "+
		"and %d implausible or without a ticket of this data dir's key (skipped)\n",
		rep.Report.Stored, rep.Report.Duplicates, rep.Report.Conflicts, rep.Unusable, rep.Refused)
	fmt.Fprintf(w, "  checked: %d sweeps, %d tasks, %d results\n", rep.Check.Sweeps, rep.Check.Tasks, rep.Check.Results)
	fmt.Fprintln(w, "  sweeps planned after the backup are not in it: submit their specs again (`sgsweep run` or `submit`);")
	fmt.Fprintln(w, "  their recovered results count as done and only the rest is computed")
	if rep.Gap {
		fmt.Fprintln(w, "  warning: the archive does not reach back to the backup: results committed between the backup and")
		fmt.Fprintln(w, "  the archive's oldest message are not recovered and will be computed again when their sweeps resume")
	}
}

// mib formats a size in bytes in MiB, or KiB below one MiB.
func mib(n int64) string {
	if n < 1<<20 {
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}
