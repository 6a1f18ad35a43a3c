package coordinator

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// Task tickets tie a result to a task message the coordinator published.
// Each task message carries the ticket HMAC-SHA256(key, sweep|task|gen)
// (protocol.TaskMsg.Ticket, hex); the worker that pulls the message echoes
// it in its result (protocol.ResultMsg.Ticket), and the coordinator accepts
// a result only with the ticket of its task's current or an earlier
// generation, recomputed from the key: nothing is stored per ticket. A
// holder of the worker credential who never pulled a task cannot make its
// ticket, so it can forge results only for the tasks it took from the queue
// (which verification by recomputation checks).

// TicketKeySize is the size of a ticket key in bytes.
const TicketKeySize = 32

// TicketKeyFile is the ticket key's file in a credentials directory: the
// key in hex, mode 0600.
const TicketKeyFile = "ticket.key"

// Tickets makes and checks task tickets with one key.
type Tickets struct{ key []byte }

// NewTickets returns the tickets of a key of TicketKeySize bytes.
func NewTickets(key []byte) (*Tickets, error) {
	if len(key) != TicketKeySize {
		return nil, fmt.Errorf("ticket key of %d bytes, want %d", len(key), TicketKeySize)
	}
	return &Tickets{key: bytes.Clone(key)}, nil
}

// randomTickets returns tickets with a key of this process only.
func randomTickets() *Tickets {
	key := make([]byte, TicketKeySize)
	if _, err := rand.Read(key); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return &Tickets{key: key}
}

// Ticket is the ticket of generation gen of a task published by a sweep.
func (k *Tickets) Ticket(sweep, task string, gen int) string {
	return hex.EncodeToString(k.mac(sweep, task, gen))
}

func (k *Tickets) mac(sweep, task string, gen int) []byte {
	h := hmac.New(sha256.New, k.key)
	h.Write([]byte(sweep))
	h.Write([]byte{'|'})
	h.Write([]byte(task))
	h.Write([]byte{'|'})
	h.Write(strconv.AppendInt(nil, int64(gen), 10))
	return h.Sum(nil)
}

// Match reports whether ticket is the ticket of the task, published by the
// sweep, at a generation from 0 to gen, and which. It costs up to gen+1
// HMACs of a few dozen bytes (a microsecond each).
func (k *Tickets) Match(sweep, task string, gen int, ticket string) (int, bool) {
	got, err := hex.DecodeString(ticket)
	if err != nil || len(got) != sha256.Size {
		return 0, false
	}
	for g := gen; g >= 0; g-- {
		if hmac.Equal(got, k.mac(sweep, task, g)) {
			return g, true
		}
	}
	return 0, false
}

// Valid reports whether Match matches.
func (k *Tickets) Valid(sweep, task string, gen int, ticket string) bool {
	_, ok := k.Match(sweep, task, gen, ticket)
	return ok
}

// LoadTicketKey reads the ticket key of a credentials directory, creating
// it (and the directory) at the first start. A key file that others than
// its owner may read is refused: its reader can forge tickets.
func LoadTicketKey(dir string) ([]byte, error) {
	path := filepath.Join(dir, TicketKeyFile)
	key, err := readTicketKey(path)
	if errors.Is(err, os.ErrNotExist) {
		return writeTicketKey(dir)
	}
	return key, err
}

// RotateTicketKey replaces the ticket key of a credentials directory. A
// running coordinator keeps the old key until it restarts; results of task
// messages published before then are orphans, and their tasks are
// published again with new tickets.
func RotateTicketKey(dir string) error {
	_, err := writeTicketKey(dir)
	return err
}

func readTicketKey(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("ticket key %s: mode %v lets others read it; chmod 600 %s", path, fi.Mode().Perm(), path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	key, err := hex.DecodeString(string(bytes.TrimSpace(data)))
	if err != nil || len(key) != TicketKeySize {
		return nil, fmt.Errorf("ticket key %s: not %d bytes in hex", path, TicketKeySize)
	}
	return key, nil
}

// writeTicketKey writes a new random key to dir/TicketKeyFile atomically,
// mode 0600.
func writeTicketKey(dir string) ([]byte, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("ticket key: %w", err)
	}
	key := randomTickets().key
	if err := writeSecret(filepath.Join(dir, TicketKeyFile), []byte(hex.EncodeToString(key)+"\n")); err != nil {
		return nil, fmt.Errorf("ticket key: %w", err)
	}
	return key, nil
}
