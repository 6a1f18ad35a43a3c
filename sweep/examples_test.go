package sweep

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestExamples parses and expands every spec under examples/ (and the
// early-stopping cuts in examples/stopping/) and checks the task counts that
// examples/README.md documents.
func TestExamples(t *testing.T) {
	documented := readmeTaskCounts(t, "../examples/README.md")
	files, err := filepath.Glob("../examples/*.yaml")
	cuts, err2 := filepath.Glob("../examples/stopping/*.yaml")
	if err != nil || err2 != nil || len(files) == 0 || len(cuts) == 0 {
		t.Fatalf("no example specs: %v, %v", err, err2)
	}
	files = append(files, cuts...)
	var names []string
	for _, file := range files {
		name := strings.TrimPrefix(filepath.ToSlash(file), "../examples/")
		names = append(names, name)
		t.Run(name, func(t *testing.T) {
			s, tasks := mustExpandFile(t, file)
			checkTasks(t, s, tasks)
			want, ok := documented[name]
			if !ok {
				t.Fatalf("examples/README.md does not document %s", name)
			}
			if len(tasks) != want {
				t.Errorf("%s expands to %d tasks; examples/README.md says %d", name, len(tasks), want)
			}
		})
	}
	for name := range documented {
		if !slices.Contains(names, name) {
			t.Errorf("examples/README.md documents %s, which does not exist", name)
		}
	}
}

// readmeTaskCounts reads the table of examples/README.md whose header has a
// "tasks" column: spec file name → documented task count.
func readmeTaskCounts(t *testing.T, path string) map[string]int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	specName := regexp.MustCompile("`([A-Za-z0-9_./-]+\\.yaml)`")
	counts := map[string]int{}
	column := -1
	for _, line := range strings.Split(string(data), "\n") {
		if !strings.HasPrefix(line, "|") {
			column = -1
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		if column < 0 {
			column = slices.Index(cells, "tasks")
			continue
		}
		m := specName.FindStringSubmatch(cells[0])
		if m == nil || column >= len(cells) {
			continue
		}
		n, err := strconv.Atoi(cells[column])
		if err != nil {
			t.Fatalf("README row for %s: tasks %q is not a number", m[1], cells[column])
		}
		counts[m[1]] = n
	}
	if len(counts) == 0 {
		t.Fatalf("no table with a tasks column in %s", path)
	}
	return counts
}
