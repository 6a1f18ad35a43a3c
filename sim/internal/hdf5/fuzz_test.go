package hdf5

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// fuzzPaths are the datasets FuzzOpen tries to read in every input: all
// those of the fixtures plus some that exist only in some of them.
var fuzzPaths = []string{
	"spikes/times", "spikes/units", "labels", "extra/speaker", "extra/keys",
	"paged/fixed", "single/filtered", "single/plain", "implicit",
	"extensible", "extensible2d", "grid", "grid_be", "scalar", "int8",
	"int64", "compact", "fill", "dense/d0",
}

// maxFuzzValues caps the numbers FuzzOpen decodes per dataset: sequences
// may share heap objects, so a small valid file can describe far more.
const maxFuzzValues = 1 << 20

// FuzzOpen feeds arbitrary bytes to Open and reads every dataset it can
// find: no input may panic, and none may make the reader allocate more than
// a bounded multiple of its size (size fields are checked against the
// file's length before anything is allocated; compressed chunks may
// inflate up to maxInflation times).
//
//	go test ./sim/internal/hdf5 -run '^$' -fuzz FuzzOpen -fuzztime 5m
func FuzzOpen(f *testing.F) {
	names, _ := filepath.Glob(filepath.Join(fixtureDir, "*.h5"))
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("\x89HDF\r\n\x1a\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		start := time.Now()
		file, err := Open(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		for _, path := range fuzzPaths {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			readUpTo(file, path, maxFuzzValues)
			runtime.ReadMemStats(&after)
			// A dataset may legitimately be maxInflation times the file;
			// decoding to float64 (8 bytes per element of at least 1 byte)
			// and slice growth multiply that by a small factor.
			limit := 1<<20 + 32*maxInflation*uint64(len(data))
			if got := after.TotalAlloc - before.TotalAlloc; got > limit {
				t.Errorf("%d-byte input: reading %s allocated %d bytes (limit %d)", len(data), path, got, limit)
			}
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("%d-byte input took %v", len(data), d)
		}
	})
}
