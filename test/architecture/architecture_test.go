// Package architecture checks docs/architecture.md against the code: the
// import graph it lists, package by package, must be the one `go list`
// reports, and the layering rules it states must hold.
package architecture

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// repoRoot is the repository's root, relative to this package.
const repoRoot = "../.."

// goPackage is the part of `go list -json` this test reads.
type goPackage struct {
	ImportPath string
	Module     *struct{ Path string }
	Imports    []string
}

// moduleGraph returns, for every non-test package of the module (test/…
// packages aside, which hold tests only), its imports within the module,
// as paths relative to the module, sorted.
func moduleGraph(t *testing.T) map[string][]string {
	t.Helper()
	cmd := exec.Command("go", "list", "-json", "./...")
	cmd.Dir = repoRoot
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	graph := map[string][]string{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p goPackage
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		prefix := p.Module.Path + "/"
		name := strings.TrimPrefix(p.ImportPath, prefix)
		if strings.HasPrefix(name, "test/") {
			continue
		}
		deps := []string{}
		for _, imp := range p.Imports {
			if rel, ok := strings.CutPrefix(imp, prefix); ok {
				deps = append(deps, rel)
			}
		}
		slices.Sort(deps)
		graph[name] = deps
	}
	return graph
}

// documentedGraph reads the import list between the markers of
// docs/architecture.md.
func documentedGraph(t *testing.T) map[string][]string {
	t.Helper()
	f, err := os.Open(filepath.Join(repoRoot, "docs", "architecture.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	graph := map[string][]string{}
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "<!-- imports"):
			in = true
			continue
		case strings.HasPrefix(line, "<!-- end imports"):
			in = false
		}
		if !in || strings.TrimSpace(line) == "" {
			continue
		}
		name, deps, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			t.Fatalf("docs/architecture.md: import line %q is not 'package: imports…'", line)
		}
		list := strings.Fields(deps)
		slices.Sort(list)
		graph[name] = list
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(graph) == 0 {
		t.Fatal("docs/architecture.md has no import list between <!-- imports … --> and <!-- end imports -->")
	}
	return graph
}

// TestImportGraphIsDocumented fails when a package, or an import between
// packages, is added or removed without docs/architecture.md saying so.
func TestImportGraphIsDocumented(t *testing.T) {
	code, doc := moduleGraph(t), documentedGraph(t)
	for name, deps := range code {
		want, ok := doc[name]
		if !ok {
			t.Errorf("package %s (imports %v) is missing from docs/architecture.md", name, deps)
			continue
		}
		if !slices.Equal(deps, want) {
			t.Errorf("package %s imports %v; docs/architecture.md says %v", name, deps, want)
		}
	}
	for name := range doc {
		if _, ok := code[name]; !ok {
			t.Errorf("docs/architecture.md lists package %s, which does not exist", name)
		}
	}
}

// TestLayering checks the rules the page states, on the whole dependency
// closure (third-party packages included), not only direct imports.
func TestLayering(t *testing.T) {
	rules := []struct {
		pkgs      []string
		forbidden string
		why       string
	}{
		{[]string{"./coordinator", "./worker"}, "gonum.org/v1/plot", "neither draws figures"},
		{[]string{"./worker"}, "go.etcd.io/bbolt", "workers are stateless"},
		{[]string{"./sweep", "./results"}, "github.com/nats-io/", "specs and queries know nothing of NATS"},
		{[]string{"./results", "./sweep", "./protocol"}, "go.etcd.io/bbolt", "only results/store and its users touch bbolt"},
		{[]string{"./results"}, "gonum.org/v1/plot", "only results/plot draws"},
	}
	for _, r := range rules {
		cmd := exec.Command("go", append([]string{"list", "-deps"}, r.pkgs...)...)
		cmd.Dir = repoRoot
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list -deps %v: %v", r.pkgs, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			if strings.HasPrefix(dep, r.forbidden) {
				t.Errorf("go list -deps %v lists %s: %s", r.pkgs, dep, r.why)
			}
		}
	}
}
