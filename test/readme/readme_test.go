// Package readme runs the commands of the README's install and quick-start
// sections as a newcomer would, in order, and checks what they print and
// write: the install build, the quick-start sweep (whose summary must be the
// one the README shows, digit for digit: training is reproducible bit for
// bit), the resumed rerun, results, plot, export and train.
//
// The other commands of the README are run elsewhere: `go test ./...` and the
// race detector by .ci/run, the benchmarks and fuzz targets by their
// packages' tests (which compile them).
package readme

import (
	"bufio"
	"encoding/csv"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// repoRoot is the repository's root, relative to this package.
const repoRoot = "../.."

// goRun is how the README invokes the tool.
const goRun = "go run ./cmd/sgsweep "

// readmeCommands returns the README's indented command lines that run the
// tool (`go run ./cmd/sgsweep ...`), in order, without their comments, and
// the indented block that follows "It ends with": the summary the quick
// start prints.
func readmeCommands(t *testing.T) (commands []string, summary []string) {
	t.Helper()
	f, err := os.Open(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	inSummary := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		code, indented := strings.CutPrefix(line, "    ")
		switch {
		case strings.HasSuffix(strings.TrimSpace(line), "It ends with"):
			inSummary = true
			continue
		case inSummary && (indented || line == ""):
			if strings.TrimSpace(code) != "" {
				summary = append(summary, code)
			}
			continue
		case inSummary:
			inSummary = false
		}
		if indented && strings.HasPrefix(code, goRun) {
			cmd, _, _ := strings.Cut(code, "#")
			commands = append(commands, strings.TrimSpace(cmd))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(commands) == 0 || len(summary) == 0 {
		t.Fatalf("README.md: found %d commands and %d summary lines; the quick start moved?", len(commands), len(summary))
	}
	return commands, summary
}

// duration matches the sweep's wall time in its summary line.
var duration = regexp.MustCompile(`done in [^:]+:`)

func TestQuickStart(t *testing.T) {
	if testing.Short() {
		t.Skip("the quick start trains 6 networks (about half a minute on 2 cores); skipped with -short")
	}
	commands, summary := readmeCommands(t)

	// Install, as the README says, with the binary written outside the tree.
	bin := filepath.Join(t.TempDir(), "sgsweep")
	build := exec.Command("go", "build", "-o", bin, "./cmd/sgsweep")
	build.Dir = repoRoot
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build -o sgsweep ./cmd/sgsweep: %v\n%s", err, out)
	}

	// A fresh working directory that holds the examples, as a clone does.
	work := t.TempDir()
	examples, err := filepath.Abs(filepath.Join(repoRoot, "examples"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(examples, filepath.Join(work, "examples")); err != nil {
		t.Fatal(err)
	}

	runs := 0
	for _, command := range commands {
		args := strings.Fields(strings.TrimPrefix(command, goRun))
		cmd := exec.Command(bin, args...)
		cmd.Dir = work
		cmd.Env = cleanEnv()
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: %v\nstdout:\n%s\nstderr:\n%s", command, err, out, stderr.String())
		}
		stdout := string(out)
		t.Logf("%s: ok", command)
		switch args[0] {
		case "run":
			runs++
			if runs == 1 {
				requireLines(t, command, stdout, summary)
				break
			}
			// The rerun resumes: nothing left to run, the same summary.
			if !strings.Contains(stderr.String(), "6 done already, 0 failed, 0 to run") {
				t.Errorf("%s (again) does not resume with nothing to run; stderr:\n%s", command, stderr.String())
			}
			requireLines(t, command, stdout, summary)
		case "results":
			// The quick start's table with more columns: n expected, the 95% CI.
			for _, want := range []string{
				"surrogate.shape  surrogate.scale  expected  test_acc.n  test_acc.mean  test_acc.sd  test_acc.ci95_lo",
				"\n6 tasks: 6 done, 0 failed (excluded from metrics), 0 pending\n",
			} {
				if !strings.Contains(stdout, want) {
					t.Errorf("%s: no %q in\n%s", command, want, stdout)
				}
			}
		case "plot":
			requirePNG(t, filepath.Join(work, flagValue(t, args, "-o")))
		case "export":
			requireCSVRows(t, filepath.Join(work, flagValue(t, args, "-o")), 6)
		case "train":
			if !strings.Contains(stdout, "epoch   5/5") || !strings.Contains(stdout, "status ok: test accuracy") {
				t.Errorf("%s: no learning curve and final line on stdout:\n%s", command, stdout)
			}
		default:
			t.Errorf("%s: the README runs a command this test does not check; add a case", command)
		}
	}
	if runs != 2 {
		t.Errorf("the README runs the quick start %d times; this test expects the run and its resumed rerun", runs)
	}
}

// cleanEnv is the environment without sgsweep's own variables, so that the
// commands use their defaults as on a newcomer's machine.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SGSWEEP_") && !strings.HasPrefix(kv, "NATS_") {
			env = append(env, kv)
		}
	}
	return env
}

// requireLines fails unless every line of want appears in got as a line,
// the sweep's wall time aside.
func requireLines(t *testing.T, command, got string, want []string) {
	t.Helper()
	lines := map[string]bool{}
	for _, l := range strings.Split(got, "\n") {
		lines[duration.ReplaceAllString(strings.TrimRight(l, " "), "done in _:")] = true
	}
	for _, w := range want {
		if !lines[duration.ReplaceAllString(strings.TrimRight(w, " "), "done in _:")] {
			t.Errorf("%s: the README shows the line\n\t%s\nwhich the command did not print; it printed:\n%s", command, w, got)
		}
	}
}

// flagValue is the value after flag in args.
func flagValue(t *testing.T, args []string, flag string) string {
	t.Helper()
	for i, a := range args[:len(args)-1] {
		if a == flag {
			return args[i+1]
		}
	}
	t.Fatalf("%v has no %s", args, flag)
	return ""
}

// requirePNG fails unless path is a PNG image that is not a single colour.
func requirePNG(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	b := img.Bounds()
	first := img.At(b.Min.X, b.Min.Y)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if img.At(x, y) != first {
				return
			}
		}
	}
	t.Errorf("%s: a %dx%d image of one colour", path, b.Dx(), b.Dy())
}

// requireCSVRows fails unless path is a CSV file with a header and rows rows
// of the header's width.
func requireCSVRows(t *testing.T, path string, rows int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	records, err := csv.NewReader(f).ReadAll() // ReadAll checks every row's width
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(records) != rows+1 {
		t.Errorf("%s: %d rows after the header, want %d", path, len(records)-1, rows)
	}
}
