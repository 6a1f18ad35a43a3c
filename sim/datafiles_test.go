package sim

import (
	"encoding/hex"
	"errors"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestDataSources: every dataset read from files has a source; every file
// is one its loader reads, and is either pinned (a SHA-256 and a size) or
// says why not.
func TestDataSources(t *testing.T) {
	for name, files := range loaderFiles {
		src, ok := DataSourceOf(name)
		if !ok {
			t.Errorf("%s: no DataSource", name)
			continue
		}
		if !strings.HasPrefix(src.BaseURL, "http") || strings.HasSuffix(src.BaseURL, "/") {
			t.Errorf("%s: base URL %q, want http(s)://… without a trailing /", name, src.BaseURL)
		}
		var names []string
		for _, f := range src.Files {
			names = append(names, strings.TrimSuffix(f.Name, ".gz"))
			sum, err := hex.DecodeString(f.SHA256)
			switch {
			case f.SHA256 == "" && f.Unpinned == "":
				t.Errorf("%s/%s: no SHA-256 and no reason in Unpinned", name, f.Name)
			case f.SHA256 != "" && (err != nil || len(sum) != 32 || f.Size <= 0 || f.Unpinned != ""):
				t.Errorf("%s/%s: SHA-256 %q, size %d, unpinned %q: want 64 hex digits, a size, no reason", name, f.Name, f.SHA256, f.Size, f.Unpinned)
			}
		}
		if !slices.Equal(names, files.bases) {
			t.Errorf("%s: the source's files are %v, the loader reads %v", name, names, files.bases)
		}
	}
	if _, ok := DataSourceOf(DatasetRandman); ok {
		t.Errorf("randman has a DataSource; it is generated")
	}
}

func TestCheckDataFiles(t *testing.T) {
	for _, name := range []string{DatasetMNIST, DatasetSHD, DatasetRandman} {
		if err := CheckDataFiles(name, testDataDir); err != nil {
			t.Errorf("CheckDataFiles(%s, testdata) = %v", name, err)
		}
	}
	empty := t.TempDir()
	for _, name := range []string{DatasetMNIST, DatasetFashionMNIST, DatasetSHD} {
		err := CheckDataFiles(name, empty)
		if !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("CheckDataFiles(%s, empty dir) = %v, want an error wrapping fs.ErrNotExist", name, err)
		}
		if want := "`sgsweep data get " + name + " --dataset-dir " + empty + "` downloads it"; !strings.Contains(err.Error(), want) {
			t.Errorf("CheckDataFiles(%s, empty dir) = %q, want it to contain %q", name, err, want)
		}
	}
}

// TestLoadDatasetMissingFile: a task whose files are missing fails with the
// path it wanted and the command that downloads them.
func TestLoadDatasetMissingFile(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{DatasetMNIST, DatasetFashionMNIST, DatasetSHD} {
		_, err := loadDatasetUncached(latencyConfig(name, 0.1, 1), dir)
		for _, want := range []string{"file not found", filepath.Join(dir, ""), "`sgsweep data get " + name + " --dataset-dir " + dir + "`"} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s in an empty data dir: error %v, want it to contain %q", name, err, want)
			}
		}
	}
	// Other errors get no download hint.
	bad := t.TempDir()
	writeFakeIDX(t, filepath.Join(bad, DatasetMNIST), fakeIDX{train: 12, test: 5, rows: 3, cols: 2})
	cfg := latencyConfig(DatasetMNIST, 0.99, 1)
	if _, err := loadDatasetUncached(cfg, bad); err == nil || strings.Contains(err.Error(), "data get") {
		t.Errorf("val_fraction leaving nothing: error %v, want one without a download hint", err)
	}
}
