package sim

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// shdBenchDirEnv names a data directory holding SHD-sized files for
// BenchmarkLoadSHD, made by
//
//	python3 sim/testdata/shd/gen.py --large /tmp/shd-bench    # 8156 + 2264 samples, ~0.44 GB
//	SGSWEEP_SHD_BENCH_DIR=/tmp/shd-bench go test ./sim -run '^$' -bench LoadSHD -benchtime 3x
//
// (gzip the two files in place to measure loading the .h5.gz distribution.)
const shdBenchDirEnv = "SGSWEEP_SHD_BENCH_DIR"

// BenchmarkLoadSHD reads and bins the whole dataset with the paper-style
// setup of spytorch's SHD tutorial: 100 steps over 1.4 s, 10% validation.
func BenchmarkLoadSHD(b *testing.B) {
	dir := os.Getenv(shdBenchDirEnv)
	if dir == "" {
		b.Skipf("set %s to a directory with shd/shd_train.h5 and shd/shd_test.h5 (see shd_bench_test.go)", shdBenchDirEnv)
	}
	c := DefaultConfig()
	c.Dataset.Name = DatasetSHD
	c.Dataset.Steps = 100
	c.Dataset.Duration = 1.4
	c.Dataset.ValFraction = 0.1
	spikes, bytes := 0, int64(0)
	for _, name := range []string{"shd_train.h5", "shd_test.h5"} {
		f, err := openSHDFile(filepath.Join(dir, "shd"), name)
		if err != nil {
			b.Fatal(err)
		}
		seqs, err := f.times.Sequences()
		if err != nil {
			b.Fatal(err)
		}
		for k := range f.len() {
			spikes += seqs.SeqLen(k)
		}
		st, err := os.Stat(f.path)
		if err != nil {
			b.Fatal(err)
		}
		bytes += st.Size()
		f.close()
	}
	b.ReportAllocs()
	var ds *Dataset
	for b.Loop() {
		var err error
		if ds, err = loadSHD(c, dir); err != nil {
			b.Fatal(err)
		}
	}
	samples := ds.Train.Len() + ds.Val.Len() + ds.Test.Len()
	events := len(ds.Train.Times) + len(ds.Val.Times) + len(ds.Test.Times)
	sec := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(float64(samples)/sec, "samples/s")
	b.ReportMetric(float64(spikes)/sec/1e6, "Mspikes/s")
	b.ReportMetric(float64(bytes)/sec/1e6, "MB/s")
	b.ReportMetric(float64(events)/float64(samples), "events/sample")
}

// BenchmarkSHDBin bins one SHD-like sample: 10 000 spikes sorted by time
// over 1.4 s on 700 channels, into 100 steps.
func BenchmarkSHDBin(b *testing.B) {
	src := rand.New(rand.NewPCG(1, 2))
	times := make([]float64, 10000)
	units := make([]int64, len(times))
	for i := range times {
		times[i] = 1.4 * src.Float64()
		units[i] = src.Int64N(shdChannels)
	}
	slices.Sort(times)
	bin := newSHDBinner(100, 1.4)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := bin.bin(times, units); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(times))*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mspikes/s")
}
