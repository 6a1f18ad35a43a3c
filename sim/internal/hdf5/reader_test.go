package hdf5

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fixtureDir holds the files written by sim/testdata/shd/gen.py.
const fixtureDir = "../../testdata/shd"

// expectation is one dataset of a fixture's JSON description.
type expectation struct {
	Type      string      `json:"type"`
	Shape     []uint64    `json:"shape"`
	Values    []float64   `json:"values"`
	Sequences [][]float64 `json:"sequences"`
}

// fixtures returns the reader fixtures: file name → dataset path → values.
func fixtures(t testing.TB) map[string]map[string]expectation {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(fixtureDir, "reader_*.h5"))
	if err != nil || len(names) < 7 {
		t.Fatalf("reader fixtures in %s: %v (found %d, want ≥ 7)", fixtureDir, err, len(names))
	}
	out := map[string]map[string]expectation{}
	for _, name := range names {
		b, err := os.ReadFile(strings.TrimSuffix(name, ".h5") + ".json")
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Datasets map[string]expectation `json:"datasets"`
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[filepath.Base(name)] = doc.Datasets
	}
	return out
}

func openBytes(t testing.TB, b []byte) *File {
	t.Helper()
	f, err := Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return f
}

// readFixture returns the content of the fixture file.
func readFixture(t testing.TB, file string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir, file))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// readAll reads dataset path in full: numbers, or one slice per sequence.
func readAll(f *File, path string) (*Dataset, [][]float64, error) {
	return readUpTo(f, path, 0)
}

// readUpTo is readAll stopping after about maxValues numbers if maxValues
// is positive. (A small file can legitimately describe a huge dataset, e.g.
// many sequences sharing one heap object.)
func readUpTo(f *File, path string, maxValues int) (*Dataset, [][]float64, error) {
	d, err := f.Dataset(path)
	if err != nil {
		return nil, nil, err
	}
	if d.Type.Class != VarLen {
		v, err := d.Floats()
		return d, [][]float64{v}, err
	}
	s, err := d.Sequences()
	if err != nil {
		return d, nil, err
	}
	var out [][]float64
	total := 0
	for i := range s.Len() {
		v, err := s.Floats(nil, i)
		if err != nil {
			return d, out, err
		}
		out = append(out, v)
		if total += len(v) + 1; maxValues > 0 && total > maxValues {
			break
		}
	}
	return d, out, nil
}

// want returns the expected values in readAll's shape.
func (e expectation) want() [][]float64 {
	if e.Sequences != nil {
		return e.Sequences
	}
	return [][]float64{e.Values}
}

func equalValues(a, b [][]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !slices.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

// TestFixtures checks that every dataset of every fixture decodes to
// exactly the values gen.py wrote, with the right type and shape.
func TestFixtures(t *testing.T) {
	for file, datasets := range fixtures(t) {
		b := readFixture(t, file)
		f := openBytes(t, b)
		for path, e := range datasets {
			t.Run(file+"/"+path, func(t *testing.T) {
				d, got, err := readAll(f, path)
				if err != nil {
					t.Fatalf("read: %v", err)
				}
				if d.Type.String() != e.Type {
					t.Errorf("type %s, want %s", d.Type, e.Type)
				}
				if !slices.Equal(d.Shape, e.Shape) && !(len(d.Shape) == 0 && len(e.Shape) == 0) {
					t.Errorf("shape %v, want %v", d.Shape, e.Shape)
				}
				if !equalValues(got, e.want()) {
					t.Errorf("values\n got %v\nwant %v", got, e.want())
				}
				if d.Type.Class == FixedPoint {
					ints, err := d.Ints()
					if err != nil {
						t.Fatalf("Ints: %v", err)
					}
					for i, v := range ints {
						if float64(v) != e.Values[i] {
							t.Fatalf("Ints()[%d] = %d, want %v", i, v, e.Values[i])
						}
					}
				}
			})
		}
	}
}

// TestFixtureLayouts pins which storage features each fixture exercises,
// so that a regenerated fixture cannot silently stop covering one.
func TestFixtureLayouts(t *testing.T) {
	tests := []struct {
		file, path string
		super      int
		layout     string
		filters    int
	}{
		{"reader_default_f16.h5", "spikes/times", 0, "contiguous", 0},
		{"reader_chunked_gzip.h5", "spikes/times", 0, "chunked [3] (B-tree)", 2},
		{"reader_chunked_gzip.h5", "labels", 0, "chunked [2] (B-tree)", 3},
		{"reader_v108.h5", "spikes/times", 2, "chunked [4] (B-tree)", 2},
		{"reader_latest_f64.h5", "spikes/units", 3, "chunked [2] (fixed array)", 2},
		{"reader_latest_f64.h5", "paged/fixed", 3, "chunked [1] (fixed array)", 0},
		{"reader_latest_f64.h5", "single/filtered", 3, "chunked [4 5] (single chunk)", 1},
		{"reader_latest_f64.h5", "single/plain", 3, "chunked [6] (single chunk)", 0},
		{"reader_latest_f64.h5", "implicit", 3, "chunked [3] (implicit)", 0},
		{"reader_latest_unlimited.h5", "extensible", 3, "chunked [1] (extensible array)", 0},
		{"reader_latest_unlimited.h5", "extensible2d", 3, "chunked [2 2] (extensible array)", 0},
		{"reader_latest_unlimited.h5", "spikes/times", 3, "chunked [2] (extensible array)", 1},
		{"reader_misc.h5", "compact", 0, "compact", 0},
		{"reader_misc.h5", "grid_be", 0, "chunked [2 3 2] (B-tree)", 1},
	}
	for _, tt := range tests {
		b := readFixture(t, tt.file)
		f := openBytes(t, b)
		d, err := f.Dataset(tt.path)
		if err != nil {
			t.Fatal(err)
		}
		if f.superVersion != tt.super || d.layout.String() != tt.layout || len(d.filters) != tt.filters {
			t.Errorf("%s %s: superblock %d, %s, %d filters; want %d, %s, %d",
				tt.file, tt.path, f.superVersion, d.layout, len(d.filters), tt.super, tt.layout, tt.filters)
		}
	}
}

// TestTruncated reads every dataset of every fixture cut short at many
// lengths: each read must either fail or return exactly the right values,
// never panic or return wrong data; and cutting must cause failures.
func TestTruncated(t *testing.T) {
	for file, datasets := range fixtures(t) {
		full := readFixture(t, file)
		failures := 0
		for n := 0; n < len(full); n += 1 + n/40 {
			f, err := Open(bytes.NewReader(full[:n]), int64(n))
			if err != nil {
				failures++
				continue
			}
			for path, e := range datasets {
				_, got, err := readAll(f, path)
				if err != nil {
					failures++
					continue
				}
				if !equalValues(got, e.want()) {
					t.Fatalf("%s cut to %d bytes: %s read without error but wrong", file, n, path)
				}
			}
		}
		if failures == 0 {
			t.Errorf("%s: no truncation made a read fail", file)
		}
	}
}

// TestCorrupt overwrites the signature of each metadata structure in turn:
// reads that fail must fail with ErrCorrupt, and clobbering each kind of
// structure must make some read fail (a signature's bytes may also occur in
// raw data, or belong to extra/ datasets that are not read, so not every
// occurrence does).
func TestCorrupt(t *testing.T) {
	sigs := []string{"TREE", "SNOD", "HEAP", "GCOL", "OHDR", "FAHD", "FADB", "EAHD", "EAIB", "EASB", "EADB"}
	failed := map[string]int{}
	for file, datasets := range fixtures(t) {
		full := readFixture(t, file)
		for _, sig := range sigs {
			for at := bytes.Index(full, []byte(sig)); at >= 0; {
				bad := bytes.Clone(full)
				bad[at] ^= 0x20
				f := openBytes(t, bad)
				for path := range datasets {
					if _, _, err := readAll(f, path); err != nil {
						failed[sig]++
						if !errors.Is(err, ErrCorrupt) {
							t.Errorf("%s with %s at %#x clobbered: %s: %v, want ErrCorrupt", file, sig, at, path, err)
						}
					}
				}
				next := bytes.Index(full[at+1:], []byte(sig))
				if next < 0 {
					break
				}
				at += 1 + next
			}
		}
	}
	for _, sig := range sigs {
		if failed[sig] == 0 {
			t.Errorf("clobbering %s signatures made no read fail", sig)
		}
	}
}

func TestCorruptSuperblock(t *testing.T) {
	full := readFixture(t, "reader_latest_f64.h5")
	tests := []struct {
		name string
		at   int
	}{
		{"signature", 1},
		{"checksummed field", 12},
		{"version", 8},
	}
	for _, tt := range tests {
		bad := bytes.Clone(full)
		bad[tt.at] ^= 0x55
		_, err := Open(bytes.NewReader(bad), int64(len(bad)))
		var unsup *UnsupportedError
		if !errors.Is(err, ErrCorrupt) && !errors.As(err, &unsup) {
			t.Errorf("%s clobbered: Open = %v, want ErrCorrupt or UnsupportedError", tt.name, err)
		}
	}
}

func TestUnsupportedAndMissing(t *testing.T) {
	f := openBytes(t, readFixture(t, "reader_default_f16.h5"))
	_, _, err := readAll(f, "extra/keys")
	var unsup *UnsupportedError
	if !errors.As(err, &unsup) || !strings.Contains(unsup.Feature, "string") {
		t.Errorf("reading a string dataset: %v, want an UnsupportedError naming strings", err)
	}
	_, err = f.Dataset("spikes/nope")
	if err == nil || !strings.Contains(err.Error(), `"spikes/nope"`) || !strings.Contains(err.Error(), `no link named "nope"`) || errors.Is(err, ErrCorrupt) {
		t.Errorf("missing dataset: %v", err)
	}
	_, err = f.Dataset("labels/x")
	if err == nil || !strings.Contains(err.Error(), "not a group") {
		t.Errorf("path through a dataset: %v", err)
	}
	if _, err := f.Dataset("spikes"); err == nil || !strings.Contains(err.Error(), "not a dataset") {
		t.Errorf("opening a group as a dataset: %v", err)
	}
	d, err := f.Dataset("spikes/times")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Floats(); err == nil {
		t.Error("Floats on a variable-length dataset succeeded")
	}
	s, err := d.Sequences()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Ints(nil, 0); err == nil {
		t.Error("Ints on float sequences succeeded")
	}
	if _, err := s.Floats(nil, s.Len()); err == nil {
		t.Error("Floats past the last sequence succeeded")
	}
	if _, err := Open(bytes.NewReader([]byte("not an HDF5 file")), 16); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Open(text) = %v, want ErrCorrupt", err)
	}
}

// TestDenseLinks checks that a group in dense storage (more than 8 links,
// libver="latest") is refused by name, not misread.
func TestDenseLinks(t *testing.T) {
	_, err := openBytes(t, readFixture(t, "reader_latest_unlimited.h5")).Dataset("dense/d3")
	var unsup *UnsupportedError
	if !errors.As(err, &unsup) || !strings.Contains(unsup.Feature, "dense link storage") {
		t.Errorf("dataset in a dense group: %v, want an UnsupportedError naming dense link storage", err)
	}
}
