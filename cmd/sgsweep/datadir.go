package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/sgsweep/sgsweep/coordinator"
	"github.com/sgsweep/sgsweep/sim"
)

// defaultDataDir is where sgsweep keeps its state unless told otherwise.
const defaultDataDir = "./sgsweep-data"

// dataDirFlag is --data-dir: the state directory (state.db, the embedded
// server's store nats/, and nats.json).
func dataDirFlag() cli.Flag {
	return &cli.StringFlag{Name: "data-dir", Value: defaultDataDir,
		Usage:   "sgsweep's state `DIR`: results store state.db, embedded NATS store nats/, nats.json",
		EnvVars: []string{"SGSWEEP_DATA_DIR"}}
}

// datasetDirFlag is --dataset-dir: where the mnist, fashion-mnist and shd
// files are (see sim.LoadDataset), not to be confused with --data-dir.
func datasetDirFlag() cli.Flag {
	return &cli.StringFlag{Name: "dataset-dir",
		Usage:   "`DIR` of the mnist/, fashion-mnist/ and shd/ dataset files (default ./data)",
		EnvVars: []string{sim.DataDirEnv}}
}

// dataDir is a state directory.
type dataDir string

func dataDirOf(c *cli.Context) dataDir { return dataDir(c.String("data-dir")) }

// statePath is the results store.
func (d dataDir) statePath() string { return filepath.Join(string(d), "state.db") }

// natsDir is the embedded NATS server's store (JetStream data goes to
// natsDir/jetstream).
func (d dataDir) natsDir() string { return filepath.Join(string(d), "nats") }

// connPath is nats.json: how to reach the embedded server of this data dir.
func (d dataDir) connPath() string { return filepath.Join(string(d), "nats.json") }

// credentialsDir holds the embedded server's per-role nkey seeds
// (coordinator.Credentials): created at its first start, reused at every
// other, replaced only by `sgsweep credentials rotate`.
func (d dataDir) credentialsDir() string { return filepath.Join(string(d), "credentials") }

// credentialFile is the nkey seed file of a role.
func (d dataDir) credentialFile(role coordinator.Role) string {
	return filepath.Join(d.credentialsDir(), string(role)+".nk")
}

// connInfo is the content of nats.json, written (0600) by the process that
// runs the embedded server and removed when it stops. It holds no secret:
// processes on this machine authenticate with the data dir's credentials.
type connInfo struct {
	URL string `json:"url"`
	// CA is the server's TLS certificate file, when it has one: processes
	// on this machine verify the server with it unless given --tls-ca.
	CA string `json:"ca,omitempty"`
	// PID is the process running the server.
	PID     int       `json:"pid"`
	Started time.Time `json:"started"`
}

// writeConn writes nats.json atomically.
func (d dataDir) writeConn(info connInfo) error {
	data, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(string(d), ".nats.json.*")
	if err != nil {
		return fmt.Errorf("write %s: %w", d.connPath(), err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", d.connPath(), err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), d.connPath())
}

// readConn reads nats.json; a missing file is an error wrapping
// os.ErrNotExist.
func (d dataDir) readConn() (*connInfo, error) {
	data, err := os.ReadFile(d.connPath())
	if err != nil {
		return nil, err
	}
	var info connInfo
	if err := json.Unmarshal(data, &info); err != nil {
		return nil, fmt.Errorf("%s: %w", d.connPath(), err)
	}
	if info.URL == "" {
		return nil, fmt.Errorf("%s: no url", d.connPath())
	}
	return &info, nil
}

// removeConn removes nats.json if this process wrote it.
func (d dataDir) removeConn() {
	if info, err := d.readConn(); err == nil && info.PID == os.Getpid() {
		os.Remove(d.connPath())
	}
}
