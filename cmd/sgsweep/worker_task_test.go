package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/sgsweep/sgsweep/results"
	"github.com/sgsweep/sgsweep/sim"
)

// `sgsweep worker-task` trains the task it reads on stdin with the real
// simulator and writes one JSON line per epoch, then the result; stdin
// closing (the worker gone) cancels the run.
func TestWorkerTaskChild(t *testing.T) {
	req := tinyTask(t, 2)
	out := workerTask(t, req, false)
	var lines []map[string]json.RawMessage
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var l map[string]json.RawMessage
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		lines = append(lines, l)
	}
	if len(lines) != 3 || lines[0]["epoch"] == nil || lines[1]["epoch"] == nil || lines[2]["result"] == nil {
		t.Fatalf("worker-task output, want 2 epochs and a result:\n%s", out)
	}
	var res sim.Result
	if err := json.Unmarshal(lines[2]["result"], &res); err != nil || len(res.Epochs) != 2 || res.Status != sim.StatusOK {
		t.Errorf("result %s: %v", lines[2]["result"], err)
	}

	out = workerTask(t, req, true)
	if !bytes.Contains(out, []byte(`"canceled":true`)) {
		t.Errorf("worker-task with stdin closed after the task wrote:\n%s", out)
	}
}

// tinyTask is a worker-task request (the wire form of worker's
// childRequest) for a tiny randman training of the given epochs.
func tinyTask(t *testing.T, epochs int) []byte {
	t.Helper()
	cfg := sim.DefaultConfig()
	cfg.Dataset.SamplesPerClass, cfg.Dataset.Steps, cfg.Dataset.Cutoff = 20, 20, 50
	cfg.Network.Hidden = []int{10}
	cfg.Train.Epochs, cfg.Train.Batch = epochs, 32
	req, err := json.Marshal(map[string]any{"config": cfg, "threads": 1})
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// workerTask runs `sgsweep worker-task` with req on stdin, which it closes
// at once if closeStdin, else when the process has exited, and returns its
// stdout.
func workerTask(t *testing.T, req []byte, closeStdin bool) []byte {
	t.Helper()
	cmd := exec.Command(os.Args[0], "worker-task")
	cmd.Env = append(os.Environ(), asMainEnv+"=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if _, err := stdin.Write(append(req, '\n')); err != nil {
		t.Fatal(err)
	}
	if closeStdin {
		stdin.Close()
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("worker-task: %v\n%s", err, stderr.String())
	}
	return stdout.Bytes()
}

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "4GiB": 4 << 30, "512MB": 512e6, "1.5 KiB": 1536, "100": 100, "2 GB": 2e9} {
		if got, err := parseBytes(in); err != nil || got != want {
			t.Errorf("parseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1GB", "lots", "1e30TB", "4 GiBs"} {
		if got, err := parseBytes(in); err == nil {
			t.Errorf("parseBytes(%q) = %d, want an error", in, got)
		}
	}
}

// `sgsweep run` trains real tasks in child processes (the default) to the
// same results, bit for bit, as in its own process, and refuses a task above
// --max-task-memory naming the estimate.
func TestRunIsolatedTasks(t *testing.T) {
	spec := writeFile(t, "iso.yaml", `name: iso
base:
  dataset: {samples_per_class: 20, steps: 20, cutoff: 50}
  train: {epochs: 2, batch: 16}
replicates: {seed: 2}
grid:
  network.hidden: [[8], [1000000]]
`)
	digests := map[string]map[string]string{} // isolation → task → digest
	for _, isolation := range []string{"process", "none"} {
		dir := t.TempDir()
		p := startSgsweep(t, nil, append([]string{"run", "--data-dir", dir, "--workers", "2", "--progress", "none",
			"--isolation", isolation, "--max-task-memory", "1GiB"}, append(fastFlags, spec)...)...)
		if code := p.wait(60 * time.Second); code != 0 {
			t.Fatalf("--isolation %s: exit %d\n%s", isolation, code, p.stderrText())
		}
		digests[isolation] = map[string]string{}
		for _, r := range recordsOf(t, openRO(t, dir), "iso") {
			big := strings.Contains(string(r.Params), `"hidden":[1000000]`)
			switch {
			case big && (r.State != results.StateFailed || !strings.Contains(r.Error, "estimated")):
				t.Errorf("--isolation %s: hidden 10^6: state %s, error %q; want refused by the estimate", isolation, r.State, r.Error)
			case !big && r.State != results.StateDone:
				t.Errorf("--isolation %s: %s: state %s, error %q", isolation, r.Params, r.State, r.Error)
			case !big:
				digests[isolation][r.TaskID] = r.Result.Digest
			}
		}
	}
	if len(digests["process"]) != 2 || fmt.Sprint(digests["process"]) != fmt.Sprint(digests["none"]) {
		t.Errorf("results differ between isolations: %v vs %v", digests["process"], digests["none"])
	}
}

// SIGINT (a terminal's Ctrl-C reaches the whole process group) does not stop
// a task process: the worker decides when to cancel it.
func TestWorkerTaskIgnoresInterrupt(t *testing.T) {
	req := tinyTask(t, 20)
	cmd := exec.Command(os.Args[0], "worker-task")
	cmd.Env = append(os.Environ(), asMainEnv+"=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	stdin.Write(append(req, '\n'))
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	if !sc.Scan() {
		t.Fatal("no first epoch")
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	var last string
	for sc.Scan() {
		last = sc.Text()
	}
	if err := cmd.Wait(); err != nil || !strings.Contains(last, `"result"`) {
		t.Errorf("after SIGINT: exit %v, last line %.200s; want the result", err, last)
	}
}
