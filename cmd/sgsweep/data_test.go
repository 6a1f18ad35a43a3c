package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/sgsweep/sgsweep/coordinator/coordtest"
	"github.com/sgsweep/sgsweep/internal/datafetch"
	"github.com/sgsweep/sgsweep/sim"
)

// mirror is an httptest server of a data directory's files
// (URL/<dataset>/<file>), counting the requests.
type mirror struct {
	*httptest.Server
	requests atomic.Int64
}

func newMirror(t *testing.T, root string) *mirror {
	m := &mirror{}
	files := http.FileServer(http.Dir(root))
	m.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.requests.Add(1)
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(m.Close)
	return m
}

// fixtureSources replaces sim.DataSources, for the test, with two data
// sets of small files written under served/: "pinned" (two files with
// their SHA-256) and "unpinned" (a .gz file without). Their base URLs
// are unreachable: the tests use --mirror.
func fixtureSources(t *testing.T, served string) map[string][]byte {
	t.Helper()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(bytes.Repeat([]byte("spikes "), 10_000))
	zw.Close()
	content := map[string][]byte{
		"pinned/a.bin":      bytes.Repeat([]byte{1, 2, 3}, 50_000),
		"pinned/b.bin":      []byte("small file"),
		"unpinned/c.h5.gz":  gz.Bytes(),
		"pinned/other.file": []byte("not in the catalogue"),
	}
	for name, data := range content {
		path := filepath.Join(served, name)
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	pin := func(name string) sim.DataFile {
		data := content["pinned/"+name]
		sum := sha256.Sum256(data)
		return sim.DataFile{Name: name, Path: name, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(data))}
	}
	old := sim.DataSources
	sim.DataSources = []sim.DataSource{
		{Dataset: "pinned", BaseURL: "http://127.0.0.1:1/nowhere", Files: []sim.DataFile{pin("a.bin"), pin("b.bin")}},
		{Dataset: "unpinned", BaseURL: "http://127.0.0.1:1/nowhere", Files: []sim.DataFile{
			{Name: "c.h5.gz", Path: "c.h5.gz", Unpinned: "a fixture"}}},
	}
	t.Cleanup(func() { sim.DataSources = old })
	return content
}

func TestDataGetAndList(t *testing.T) {
	served := t.TempDir()
	content := fixtureSources(t, served)
	m := newMirror(t, served)
	dir := t.TempDir()

	out, errOut, err := runCLI(t, "data", "list", "--dataset-dir", dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"pinned 0 B missing", "to download: sgsweep data get pinned unpinned --dataset-dir " + dir} {
		if !strings.Contains(squeeze(out), want) {
			t.Errorf("data list before any download lacks %q:\n%s", want, out)
		}
	}

	out, errOut, err = runCLI(t, "data", "get", "pinned", "unpinned", "--dataset-dir", dir, "--mirror", m.URL+"/")
	if err != nil {
		t.Fatalf("data get: %v\n%s", err, errOut)
	}
	for _, name := range []string{"pinned/a.bin", "pinned/b.bin", "unpinned/c.h5.gz"} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || !bytes.Equal(got, content[name]) {
			t.Errorf("%s: %d bytes (%v), want the %d served", name, len(got), err, len(content[name]))
		}
	}
	// Off a terminal: one line per file, then where the data sets are.
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "pinned/a.bin: 150.0 kB in ") || !strings.HasSuffix(lines[0], "SHA-256 ok") ||
		!strings.Contains(lines[2], "unpinned/c.h5.gz: ") || !strings.Contains(lines[2], "(none pinned: a fixture)") {
		t.Errorf("data get's stderr:\n%s\nwant a line per file", errOut)
	}
	if want := "pinned, unpinned in " + dir + "\n"; out != want {
		t.Errorf("data get's stdout %q, want %q", out, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "pinned", "other.file")); err == nil {
		t.Errorf("a file outside the catalogue was downloaded")
	}

	// Everything present: a second get downloads nothing.
	requests := m.requests.Load()
	if _, errOut, err = runCLI(t, "data", "get", "pinned", "--dataset-dir", dir, "--mirror", m.URL); err != nil {
		t.Fatal(err)
	}
	if m.requests.Load() != requests || !strings.Contains(errOut, "pinned/a.bin: present, 150.0 kB, SHA-256 ok") {
		t.Errorf("a second get made %d requests; stderr:\n%s", m.requests.Load()-requests, errOut)
	}

	// A damaged file is listed as corrupt, with the sums, and fetched again.
	os.WriteFile(filepath.Join(dir, "pinned", "b.bin"), []byte("small fiLe"), 0o644)
	out, _, err = runCLI(t, "data", "list", "--dataset-dir", dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"\npinned 150.0 kB corrupt\n",
		"\n a.bin 150.0 kB present SHA-256 ok\n",
		"\n b.bin 10 B corrupt SHA-256 ",
		", expected " + sim.DataSources[0].Files[1].SHA256 + "\n",
		"\nunpinned 151 B present\n",
		"\n c.h5.gz 151 B present gzip CRC ok (no SHA-256 pinned)\n",
		"\nto download: sgsweep data get pinned --dataset-dir " + dir,
	} {
		if !strings.Contains(squeeze(out), want) {
			t.Errorf("data list lacks %q:\n%s", want, out)
		}
	}
	if _, _, err = runCLI(t, "data", "get", "pinned", "--dataset-dir", dir, "--mirror", m.URL); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "pinned", "b.bin")); string(got) != "small file" {
		t.Errorf("the corrupt file is still %q after data get", got)
	}
}

// TestDataGetErrors: a wrong file on the mirror, a missing one and no
// server at all give errors that say so, and leave nothing in place.
func TestDataGetErrors(t *testing.T) {
	served := t.TempDir()
	fixtureSources(t, served)
	m := newMirror(t, served)

	dir := t.TempDir()
	os.WriteFile(filepath.Join(served, "pinned", "a.bin"), bytes.Repeat([]byte{1, 2, 4}, 50_000), 0o644)
	_, _, err := runCLI(t, "data", "get", "pinned", "--dataset-dir", dir, "--mirror", m.URL)
	if err == nil || !strings.Contains(err.Error(), "SHA-256 mismatch: expected "+sim.DataSources[0].Files[0].SHA256+", got ") {
		t.Errorf("a wrong file: error %v, want a SHA-256 mismatch with both sums", err)
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, "pinned")); len(entries) != 0 {
		t.Errorf("a failed download left %v", entries)
	}

	os.Remove(filepath.Join(served, "pinned", "a.bin"))
	_, _, err = runCLI(t, "data", "get", "pinned", "--dataset-dir", dir, "--mirror", m.URL)
	if err == nil || !strings.Contains(err.Error(), "/pinned/a.bin: HTTP 404 Not Found") {
		t.Errorf("a missing file: error %v, want HTTP 404 and the URL", err)
	}

	// The base URL of the fixture catalogue has nothing listening.
	_, _, err = runCLI(t, "data", "get", "unpinned", "--dataset-dir", dir)
	if err == nil || !strings.Contains(err.Error(), "cannot reach 127.0.0.1:1 (offline?)") || !strings.Contains(err.Error(), "--mirror (SGSWEEP_DATA_MIRROR)") {
		t.Errorf("no server: error %v, want one saying it cannot reach the host and naming --mirror", err)
	}

	for _, args := range [][]string{{"data", "get"}, {"data", "get", "randman"}, {"data", "list", "x"}} {
		if _, _, err := runCLI(t, args...); exitCode(err) != 2 {
			t.Errorf("%v: error %v (exit %d), want a usage error (exit 2)", args, err, exitCode(err))
		}
	}
}

// TestDataGetRealMNIST downloads the real MNIST files from a mirror of
// $SGSWEEP_DATA, checking them against the pinned sums of sim.DataSources.
func TestDataGetRealMNIST(t *testing.T) {
	root := os.Getenv(sim.DataDirEnv)
	if root == "" {
		t.Skipf("needs the MNIST files: set %s to a directory holding mnist/", sim.DataDirEnv)
	}
	m := newMirror(t, root)
	dir := t.TempDir()
	if _, errOut, err := runCLI(t, "data", "get", "mnist", "--dataset-dir", dir, "--mirror", m.URL); err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	out, _, err := runCLI(t, "data", "list", "--dataset-dir", dir)
	if err != nil || !strings.Contains(squeeze(out), "\nmnist 11.6 MB present\n") {
		t.Errorf("data list after data get mnist: %v\n%s", err, out)
	}
}

// TestRunMissingDataset: a sweep whose data set is missing fails before
// any task runs, naming the command that downloads it.
func TestRunMissingDataset(t *testing.T) {
	dir := t.TempDir()
	spec := coordtest.Spec(t, dir, "needs-mnist", 1, nil, "")
	text, _ := os.ReadFile(spec)
	os.WriteFile(spec, bytes.Replace(text, []byte("dataset: {"), []byte("dataset: {name: mnist, "), 1), 0o644)
	empty := t.TempDir()
	start := time.Now()
	_, errOut, err := runCLI(t, "run", "--data-dir", filepath.Join(dir, "state"), "--dataset-dir", empty,
		"--workers", "1", "--progress", "none", spec)
	if err == nil || !strings.Contains(err.Error(), "`sgsweep data get mnist --dataset-dir "+empty+"`") {
		t.Fatalf("run without the data: error %v, want one naming sgsweep data get mnist\n%s", err, errOut)
	}
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("the run failed after %s, want at once", took)
	}
}

// squeeze replaces each run of spaces in s by one (tables' padding).
func squeeze(s string) string {
	for strings.Contains(s, "  ") {
		s = strings.ReplaceAll(s, "  ", " ")
	}
	return s
}

// TestDataGetOnTerminal: on a terminal, each download shows a live bar,
// which its final line replaces.
func TestDataGetOnTerminal(t *testing.T) {
	served := t.TempDir()
	fixtureSources(t, served)
	m := newMirror(t, served)
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	pty.Setsize(ptmx, &pty.Winsize{Rows: 30, Cols: 120})
	read := make(chan []byte)
	go func() {
		out, _ := io.ReadAll(ptmx) // until the terminal closes
		read <- out
	}()
	var stdout bytes.Buffer
	err = run(context.Background(), []string{"sgsweep", "data", "get", "pinned", "--dataset-dir", t.TempDir(), "--mirror", m.URL}, &stdout, tty)
	tty.Close()
	out := <-read
	if err != nil {
		t.Fatalf("data get: %v\n%s", err, out)
	}
	if !bytes.Contains(out, []byte("pinned/a.bin [")) || !bytes.Contains(out, []byte(" / 150.0 kB · ")) {
		t.Errorf("no live bar on the terminal:\n%q", out)
	}
	lines := screen(t, string(out))
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "pinned/a.bin: 150.0 kB in ") || !strings.HasPrefix(lines[1], "pinned/b.bin: 10 B in ") || lines[2] != "" {
		t.Errorf("the terminal shows\n%s\nwant a line per file and no bar left", strings.Join(lines, "\n"))
	}
}

func TestFetchLine(t *testing.T) {
	for _, tt := range []struct {
		p        datafetch.Progress
		received int64
		want     string
	}{
		{datafetch.Progress{Done: 5e6, Total: 10e6}, 5e6, "f [##########----------] 5.0 MB / 10.0 MB · 2.5 MB/s · ETA 2s"},
		{datafetch.Progress{Done: 6e6, Total: 10e6}, 1e6, "f [############--------] 6.0 MB / 10.0 MB · 500.0 kB/s · ETA 8s"},
		{datafetch.Progress{Done: 999}, 999, "f  999 B · 499 B/s"},
	} {
		if got := fetchLine("f", tt.p, tt.received, 2*time.Second); got != tt.want {
			t.Errorf("fetchLine(%+v, %d received in 2s) = %q, want %q", tt.p, tt.received, got, tt.want)
		}
	}
}
