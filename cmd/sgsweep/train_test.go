package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// smallRandman is a config file for a training run of a fraction of a
// second.
const smallRandman = `
dataset:
  samples_per_class: 20
network:
  hidden: [12]
train:
  epochs: 2
  batch: 40
`

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func runCLI(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = run(context.Background(), append([]string{"sgsweep"}, args...), &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestTrainCommandText(t *testing.T) {
	path := writeFile(t, "small.yaml", smallRandman)
	out, _, err := runCLI(t, "train", "--threads", "1", path)
	if err != nil {
		t.Fatalf("train: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "epoch   1/2") || !strings.HasPrefix(lines[1], "epoch   2/2") {
		t.Fatalf("output:\n%s\nwant two epoch lines and a summary", out)
	}
	if !strings.HasPrefix(lines[2], "status ok: test accuracy ") {
		t.Errorf("summary line %q", lines[2])
	}
}

// TestTrainCommandJSON: --json prints an epoch object per line, then the
// result; flags, --set and environment variables override the file.
func TestTrainCommandJSON(t *testing.T) {
	path := writeFile(t, "small.yaml", smallRandman)
	t.Setenv("SGSWEEP_EPOCHS", "3")
	out, _, err := runCLI(t, "train", "--json", "--hidden", "10,8", "--set", "train.lr=0.02",
		"--set", "regularizer.upper.strength=0.1", path)
	if err != nil {
		t.Fatalf("train: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d lines, want 3 epochs and the result:\n%s", len(lines), out)
	}
	for i, line := range lines[:3] {
		var e struct {
			Epoch   int       `json:"epoch"`
			Spikes  []float64 `json:"spikes"`
			Seconds float64   `json:"seconds"`
		}
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("line %d %q: %v", i+1, line, err)
		}
		if e.Epoch != i+1 || len(e.Spikes) != 2 || e.Seconds <= 0 {
			t.Errorf("line %d = %+v, want epoch %d with 2 layers' spikes and seconds", i+1, e, i+1)
		}
	}
	var final struct {
		Status  string             `json:"status"`
		Metrics map[string]float64 `json:"metrics"`
	}
	if err := json.Unmarshal([]byte(lines[3]), &final); err != nil {
		t.Fatal(err)
	}
	if final.Status != "ok" || final.Metrics["epochs"] != 3 {
		t.Errorf("final line %s: want status ok after 3 epochs", lines[3])
	}
}

func TestTrainCommandErrors(t *testing.T) {
	tests := []struct {
		name string
		file string // config file content; "" for none
		args []string
		want []string // substrings of the error
	}{
		{"unknown key names key and line", "network:\n  hidden: [10]\n  recurrnt: true\n", nil,
			[]string{"line 3", "recurrnt"}},
		{"wrong type", "train:\n  lr: fast\n", nil, []string{"line 2", "fast"}},
		{"invalid value names field and allowed values", "surrogate:\n  shape: triangle\n", nil,
			[]string{"surrogate.shape", "triangle", "superspike"}},
		{"invalid flag value", "", []string{"--reset", "sometimes"}, []string{"network.reset", "differentiable"}},
		{"bad --set path", "", []string{"--set", "surrogate.width=3"}, []string{"--set surrogate.width=3", "width"}},
		{"bad --set syntax", "", []string{"--set", "train.lr"}, []string{"PATH=VALUE"}},
		{"bad --hidden", "", []string{"--hidden", "10,x"}, []string{"--hidden"}},
		{"missing file", "", []string{"/nonexistent/cfg.yaml"}, []string{"/nonexistent/cfg.yaml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"train"}, tt.args...)
			if tt.file != "" {
				args = append(args, writeFile(t, "cfg.yaml", tt.file))
			}
			_, _, err := runCLI(t, args...)
			if err == nil {
				t.Fatal("train succeeded, want an error")
			}
			var ec exitCoder
			if !errors.As(err, &ec) || ec.ExitCode() != 2 {
				t.Errorf("error %v: want exit status 2", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}
