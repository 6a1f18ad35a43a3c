package coordinator

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sgsweep/sgsweep/protocol"
	"github.com/sgsweep/sgsweep/results"
	"github.com/sgsweep/sgsweep/results/store"
)

// backupPrefix and backupSuffix frame the names of the coordinator's
// backups: state-<UTC time>.db, which sort by time.
const (
	backupPrefix = "state-"
	backupSuffix = ".db"
	backupTime   = "20060102T150405.000Z"
)

// backupLoop takes a backup every Config.BackupEvery until ctx is done.
// A failed backup is logged and the loop goes on: backups never stop the
// coordinator.
func (c *Coordinator) backupLoop(ctx context.Context) error {
	if c.cfg.BackupEvery <= 0 {
		return nil
	}
	tick := time.NewTicker(c.cfg.BackupEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		if path, err := c.Backup(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			c.log.Error("store backup failed", "err", err)
		} else {
			c.log.Info("store backup written", "path", path)
		}
	}
}

// BackupDir is where the coordinator keeps its backups: Config.BackupDir,
// or backups/ beside the store.
func (c *Coordinator) BackupDir() string {
	if c.cfg.BackupDir != "" {
		return c.cfg.BackupDir
	}
	return filepath.Join(filepath.Dir(c.store.Path()), "backups")
}

// Backup writes a consistent copy of the store (store.Store.Snapshot: one
// read transaction, written beside and renamed into place) to
// BackupDir()/state-<UTC time>.db, checks it (store.Store.Verify, bounded
// above store.DefaultFullCheckLimit), and then removes the oldest backups
// beyond Config.BackupKeep. A copy that fails its check is removed and
// the older backups are kept; a copy made is checked even if ctx is
// cancelled meanwhile.
func (c *Coordinator) Backup(ctx context.Context) (string, error) {
	dir := c.BackupDir()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("backup: %w", err)
	}
	path := filepath.Join(dir, backupPrefix+time.Now().UTC().Format(backupTime)+backupSuffix)
	if err := c.store.Snapshot(ctx, path); err != nil {
		return "", fmt.Errorf("backup: %w", err)
	}
	// The copy is in place: its check runs to the end even when the
	// coordinator is stopping, so that a backup is checked and kept, or
	// removed for failing, never removed for being interrupted (which
	// left a stop during a backup with one backup fewer than it kept).
	if _, err := VerifyFile(context.WithoutCancel(ctx), path, false); err != nil {
		os.Remove(path)
		return "", fmt.Errorf("backup %s failed its check and was removed: %w", path, err)
	}
	return path, RotateBackups(dir, max(c.cfg.BackupKeep, 1))
}

// RotateBackups removes the oldest backups in dir (named as Backup names
// them) beyond the newest keep.
func RotateBackups(dir string, keep int) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("rotate backups: %w", err)
	}
	var names []string
	for _, e := range entries {
		if n := e.Name(); strings.HasPrefix(n, backupPrefix) && strings.HasSuffix(n, backupSuffix) && e.Type().IsRegular() {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	var errs []error
	for len(names) > keep {
		if err := os.Remove(filepath.Join(dir, names[0])); err != nil {
			errs = append(errs, err)
		}
		names = names[1:]
	}
	return errors.Join(errs...)
}

// VerifyFile opens the store file at path read-only and checks it: fully
// when full is set or the file is at most store.DefaultFullCheckLimit
// bytes, else bounded.
func VerifyFile(ctx context.Context, path string, full bool) (*store.CheckReport, error) {
	st, err := store.Open(path, &store.Options{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	if info, err := os.Stat(path); err == nil && info.Size() <= store.DefaultFullCheckLimit {
		full = true
	}
	return st.Verify(ctx, full)
}

// RebuildReport says what Rebuild recovered.
type RebuildReport struct {
	// Backup is the file rebuilt from, BackupTime its modification time;
	// Out the new store.
	Backup, Out string
	BackupTime  time.Time
	// Archive and Queue count the result messages read from the results
	// archive and from the results stream (not yet committed); a result
	// in both is read twice and stored once. ArchiveSince is the time of
	// the archive's oldest message (zero without one).
	Archive, Queue int
	ArchiveSince   time.Time
	// Gap is set when the archive's oldest message is younger than the
	// backup: results committed in between may be missing.
	Gap bool
	// Unusable counts messages that failed their checks (skipped);
	// Refused those that decoded but that a live commit would not have
	// accepted either (rebuildCheck): implausible, or without a ticket
	// of the key given (skipped too).
	Unusable, Refused int
	// Report is what committing them did: Stored results the backup
	// lacked, Duplicates it had.
	Report store.CommitReport
	// Check is the check of the new store.
	Check *store.CheckReport
}

// Rebuild makes a new store at out from the backup at from and the result
// messages still held by the server: the results archive
// (StreamResultsArchive, Config.ResultsRetention) and the results stream.
// A result is recovered only if it passes the checks of a live commit
// that do not depend on the sweeps planned (rebuildCheck) under the ticket
// key (LoadTicketKey; nil skips the ticket check, for a key that is lost).
// Both are read by sequence (direct gets), which acknowledges and removes
// nothing. out must not exist. The backup is checked fully first, the
// results are committed to a copy of it beside out as the coordinator
// commits them (idempotent: a result the backup has is a duplicate), the
// copy is checked fully and only then linked to out: a failed rebuild
// leaves no file at out.
func Rebuild(ctx context.Context, js jetstream.JetStream, from, out string, key []byte) (*RebuildReport, error) {
	rep := &RebuildReport{Backup: from, Out: out}
	var tickets *Tickets
	if key != nil {
		var err error
		if tickets, err = NewTickets(key); err != nil {
			return nil, fmt.Errorf("rebuild: %w", err)
		}
	}
	if _, err := os.Lstat(out); err == nil {
		return nil, fmt.Errorf("rebuild: %s exists; move it aside first (the rebuild never overwrites a store)", out)
	}
	info, err := os.Stat(from)
	if err != nil {
		return nil, fmt.Errorf("rebuild: %w", err)
	}
	rep.BackupTime = info.ModTime()
	src, err := store.Open(from, &store.Options{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("rebuild from %s: %w", from, err)
	}
	if _, err := src.Verify(ctx, true); err != nil {
		src.Close()
		return nil, fmt.Errorf("rebuild from %s: %w", from, err)
	}
	tmp := out + ".rebuild"
	os.Remove(tmp)
	err = src.Snapshot(ctx, tmp)
	src.Close()
	if err != nil {
		return nil, fmt.Errorf("rebuild: %w", err)
	}
	defer os.Remove(tmp) // after the link, harmlessly
	st, err := store.Open(tmp, nil)
	if err != nil {
		return nil, fmt.Errorf("rebuild: %w", err)
	}
	defer st.Close()

	var batch []store.Incoming
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		r, err := st.Commit(ctx, batch, nil, nil)
		if err != nil {
			return err
		}
		rep.Report.Stored += r.Stored
		rep.Report.Duplicates += r.Duplicates
		rep.Report.Conflicts += r.Conflicts
		rep.Report.Rejected += r.Rejected
		rep.Report.Finished = append(rep.Report.Finished, r.Finished...)
		batch = batch[:0]
		return nil
	}
	add := func(count *int) func(m *jetstream.RawStreamMsg, subject string) error {
		return func(m *jetstream.RawStreamMsg, subject string) error {
			*count++
			r, err := decodeResult(storedMsg{subject: subject, data: m.Data})
			if err != nil {
				rep.Unusable++
				return nil
			}
			gen, err := rebuildCheck(ctx, st, tickets, r)
			if errors.Is(err, errUnauthorized) {
				rep.Refused++
				return nil
			}
			if err != nil {
				return err
			}
			if err := restoreStop(ctx, st, r); err != nil {
				return err
			}
			batch = append(batch, store.Incoming{Result: r, Raw: m.Data, Gen: gen})
			if len(batch) == 256 {
				return flush()
			}
			return nil
		}
	}
	archiveOldest := func(m *jetstream.RawStreamMsg) {
		if rep.ArchiveSince.IsZero() || m.Time.Before(rep.ArchiveSince) {
			rep.ArchiveSince = m.Time
		}
	}
	archive := add(&rep.Archive)
	err = readStream(ctx, js, StreamResultsArchive, func(m *jetstream.RawStreamMsg) error {
		archiveOldest(m)
		subject := m.Header.Get(jetstream.SubjectHeader)
		if subject == "" {
			subject = strings.TrimPrefix(m.Subject, ResultsArchivePrefix)
		}
		return archive(m, subject)
	})
	if err == nil {
		queue := add(&rep.Queue)
		err = readStream(ctx, js, protocol.StreamResults, func(m *jetstream.RawStreamMsg) error { return queue(m, m.Subject) })
	}
	if err == nil {
		err = flush()
	}
	if err != nil {
		return nil, fmt.Errorf("rebuild: %w", err)
	}
	rep.Gap = rep.ArchiveSince.IsZero() || rep.ArchiveSince.After(rep.BackupTime)
	if rep.Check, err = st.Verify(ctx, true); err != nil {
		return nil, fmt.Errorf("rebuild: the new store fails its check: %w", err)
	}
	if err := st.Close(); err != nil {
		return nil, fmt.Errorf("rebuild: %w", err)
	}
	// A hard link does not replace a file that appeared meanwhile.
	if err := os.Link(tmp, out); err != nil {
		return nil, fmt.Errorf("rebuild: %w", err)
	}
	rep.Check.Path = out
	return rep, nil
}

// rebuildMaxGen bounds the generations whose tickets a rebuild tries for a
// task the backup does not plan (its sweep was planned after the backup).
const rebuildMaxGen = 64

// rebuildCheck applies a live commit's checks (authorize) that hold
// without the sweeps planned after the backup: the result must be
// plausible and, with tickets, carry the ticket of a task message the
// coordinator published (the backup's generation of the task, or up to
// rebuildMaxGen for a task it does not plan). It returns the ticket's
// generation; a refusal is an *unauthorized.
func rebuildCheck(ctx context.Context, st *store.Store, tickets *Tickets, r *protocol.ResultMsg) (int, error) {
	if err := protocol.CheckPlausible(r); err != nil {
		return 0, &unauthorized{reason: err.Error()}
	}
	if tickets == nil {
		return 0, nil
	}
	_, gen, found, err := st.TaskState(ctx, r.TaskID)
	if err != nil {
		return 0, err
	}
	if !found {
		gen = rebuildMaxGen
	}
	g, ok := tickets.Match(r.Sweep, r.TaskID, gen, r.Ticket)
	if !ok {
		return 0, &unauthorized{reason: OrphanReason + "no ticket of this coordinator"}
	}
	return g, nil
}

// readStream calls fn with every message of the stream, by sequence. A
// missing stream holds nothing.
func readStream(ctx context.Context, js jetstream.JetStream, name string, fn func(*jetstream.RawStreamMsg) error) error {
	s, err := js.Stream(ctx, name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("stream %s: %w", name, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		return fmt.Errorf("stream %s: %w", name, err)
	}
	if info.State.Msgs == 0 {
		return nil
	}
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue // acked (work queue) or aged out meanwhile
		}
		if err != nil {
			return fmt.Errorf("stream %s message %d: %w", name, seq, err)
		}
		if err := fn(m); err != nil {
			return err
		}
	}
	return nil
}

// storedMsg presents a message read by sequence to decodeResult, which
// reads only its subject and data; it has no delivery to acknowledge.
type storedMsg struct {
	jetstream.Msg
	subject string
	data    []byte
}

func (m storedMsg) Subject() string { return m.subject }
func (m storedMsg) Data() []byte    { return m.data }

// restoreStop commits the stop decision a stopped result carries when the
// backup lacks it (taken after the backup): the coordinator committed it
// before any worker heard of it, and a result carrying it was accepted
// against it. A decision the backup holds binds; a result for a task the
// backup does not plan is left to Commit, which sets it aside.
func restoreStop(ctx context.Context, st *store.Store, r *protocol.ResultMsg) error {
	if r.Status != protocol.StatusStopped || r.Stop == nil {
		return nil
	}
	if _, err := st.CommitStop(ctx, r.Sweep, r.TaskID, r.Stop); err != nil && !errors.Is(err, results.ErrNotFound) {
		return err
	}
	return nil
}
