package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	bolt "go.etcd.io/bbolt"
)

// Snapshot writes a consistent copy of the store to path, as of one read
// transaction, without blocking the writer. The copy is another file, so
// other processes can open it read-only while the store itself stays locked
// by its coordinator. It is written beside path and renamed into place.
func (s *Store) Snapshot(ctx context.Context, path string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("snapshot %s: %w", s.path, err)
	}
	tmp.Close()
	defer os.Remove(tmp.Name()) // fails harmlessly after the rename
	err = s.view(ctx, func(tx *bolt.Tx) error { return tx.CopyFile(tmp.Name(), 0o600) })
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("snapshot %s: %w", s.path, err)
	}
	return nil
}
