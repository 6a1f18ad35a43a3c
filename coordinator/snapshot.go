package coordinator

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// EndpointSnapshot is the control endpoint that writes a snapshot of the
// store for readers (export) while the coordinator holds its lock.
const EndpointSnapshot = "snapshot"

// snapshotMaxAge is how long a snapshot file may stay behind (its reader
// crashed before removing it) before the next snapshot removes it.
const snapshotMaxAge = time.Hour

// SnapshotRequest asks for a snapshot of the store.
type SnapshotRequest struct{}

// SnapshotReply says where the snapshot is: an absolute path on the
// coordinator's host. The reader opens it read-only and removes it when done.
type SnapshotReply struct {
	Path string `json:"path"`
	Host string `json:"host"`
}

// Snapshot writes a consistent copy of the store into the snapshots/
// directory beside it (store.Store.Snapshot), removing snapshots older
// than an hour.
func (c *Coordinator) Snapshot(ctx context.Context, _ SnapshotRequest) (*SnapshotReply, error) {
	dir, err := filepath.Abs(filepath.Join(filepath.Dir(c.store.Path()), "snapshots"))
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	removeStaleSnapshots(dir, time.Now().Add(-snapshotMaxAge))
	path := filepath.Join(dir, fmt.Sprintf("state-%d.db", time.Now().UnixNano()))
	if err := c.store.Snapshot(ctx, path); err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	c.log.Debug("store snapshot written", "path", path)
	return &SnapshotReply{Path: path, Host: host}, nil
}

// removeStaleSnapshots removes the snapshot files in dir last modified
// before cutoff.
func removeStaleSnapshots(dir string, cutoff time.Time) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "state-") || !strings.HasSuffix(e.Name(), ".db") {
			continue
		}
		if info, err := e.Info(); err == nil && info.ModTime().Before(cutoff) {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}
