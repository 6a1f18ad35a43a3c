package main

import (
	"io"
	"slices"
	"strings"
	"testing"
)

func TestFlagsFirst(t *testing.T) {
	app := newApp(io.Discard, io.Discard)
	tests := []struct {
		args, want string
	}{
		{"sgsweep run spec.yaml --workers 2", "sgsweep run --workers 2 spec.yaml"},
		{"sgsweep run --workers 2 spec.yaml", "sgsweep run --workers 2 spec.yaml"},
		{"sgsweep run spec.yaml --workers=2 --extend", "sgsweep run --workers=2 --extend spec.yaml"},
		{"sgsweep --log-level debug plan spec.yaml --list", "sgsweep --log-level debug plan --list spec.yaml"},
		{"sgsweep plot fig -o out.png --kind line", "sgsweep plot -o out.png --kind line fig"},
		{"sgsweep results fig -- --not-a-flag", "sgsweep results fig -- --not-a-flag"},
		{"sgsweep nosuch a --b", "sgsweep nosuch a --b"},
		{"sgsweep", "sgsweep"},
	}
	for _, tt := range tests {
		got := strings.Join(flagsFirst(app, strings.Fields(tt.args)), " ")
		if got != tt.want {
			t.Errorf("flagsFirst(%q) = %q, want %q", tt.args, got, tt.want)
		}
	}
}

// A command line with its flags after the spec runs as if they came first.
func TestFlagsFirstRun(t *testing.T) {
	spec := writeFile(t, "spec.yaml", "name: order\n")
	out, _, err := runCLI(t, "plan", spec, "--json", "--data-dir", t.TempDir())
	if err != nil {
		t.Fatalf("plan SPEC --json: %v", err)
	}
	if !strings.HasPrefix(out, "{") || !slices.Contains(strings.Fields(out), `"tasks":`) {
		t.Errorf("plan SPEC --json printed:\n%s", out)
	}
}
