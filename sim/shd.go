package sim

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/sgsweep/sgsweep/sim/internal/hdf5"
)

// The Spiking Heidelberg Digits (Cramer et al. 2020, "The Heidelberg spiking
// data sets for the systematic evaluation of spiking neural networks",
// IEEE TNNLS 33:2744) have 700 input channels and 20 classes (digits 0–9
// spoken in English and German).
const (
	shdChannels = 700
	shdClasses  = 20
)

// loadSHD reads the Spiking Heidelberg Digits from dataDir and bins their
// spike times into cfg.Dataset.Steps steps spanning cfg.Dataset.Duration
// seconds (see shdBinner).
//
// Layout: the two files as distributed, gzip-compressed or not
// (recognised by content; the plain one is used if both exist),
//
//	<dataDir>/shd/shd_train.h5[.gz]
//	<dataDir>/shd/shd_test.h5[.gz]
//
// or the same names in dataDir itself if <dataDir>/shd does not exist. Each
// holds spikes/times (variable-length float16/32/64 arrays, seconds),
// spikes/units (variable-length integer arrays, channels 0…699) and labels
// (integers 0…19), one entry per sample; everything else (extra/…) is
// ignored. A .gz file is decompressed into memory (about 0.4 GB for the
// training file), which makes loading about 5 times as costly as from the
// plain files (BenchmarkLoadSHD): gunzip them once where workers run often.
// Samples are decoded on GOMAXPROCS goroutines.
//
// Splits, as for MNIST: the validation split is round(ValFraction·n) of the
// n training samples, chosen at random with cfg.DataSeed; the training split
// is the rest in a random order, cut to its first TrainSamples if positive.
// The test split is shd_test in file order, cut to its first TestSamples if
// positive. Only the samples kept are decoded.
func loadSHD(cfg Config, dataDir string) (*Dataset, error) {
	d := cfg.Dataset
	dir, err := idxDatasetDir(dataDir, DatasetSHD)
	if err != nil {
		return nil, err
	}
	var train, test *shdFile
	var trainErr, testErr error
	var wg sync.WaitGroup
	wg.Go(func() { train, trainErr = openSHDFile(dir, "shd_train.h5") })
	wg.Go(func() { test, testErr = openSHDFile(dir, "shd_test.h5") })
	wg.Wait()
	defer train.close()
	defer test.close()
	if err := errors.Join(trainErr, testErr); err != nil {
		if sub := filepath.Join(dataDir, DatasetSHD); dir != sub {
			return nil, fmt.Errorf("shd (looked in %s as %s does not exist): %w", dir, sub, err)
		}
		return nil, fmt.Errorf("shd: %w", err)
	}

	trainIdx, valIdx, testIdx, err := splitIndices(d, cfg.DataSeed, train.len(), test.len(), "samples of "+train.path)
	if err != nil {
		return nil, err
	}

	ds := &Dataset{Inputs: shdChannels, Steps: d.Steps, Classes: shdClasses}
	err = decodeSHD([]shdJob{
		{train, trainIdx, &ds.Train},
		{train, valIdx, &ds.Val},
		{test, testIdx, &ds.Test},
	}, d.Steps, d.Duration, shdPiece)
	if err != nil {
		return nil, fmt.Errorf("shd: %w", err)
	}
	return ds, nil
}

// shdFile is one open SHD file. Its datasets may be read from several
// goroutines, each with its own Sequences.
type shdFile struct {
	path   string
	labels []int64
	times  *hdf5.Dataset
	units  *hdf5.Dataset
	closer io.Closer
}

// openSHDFile opens dir/base or dir/base.gz and checks that its three
// datasets agree in length and its labels are in range.
func openSHDFile(dir, base string) (*shdFile, error) {
	path, err := findPlainOrGzip(dir, base, "", "HDF5")
	if err != nil {
		return nil, err
	}
	s := &shdFile{path: path}
	r, size, closer, err := openMaybeGzip(path)
	if err != nil {
		return nil, err
	}
	s.closer = closer
	if err := s.open(r, size); err != nil {
		s.close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

func (s *shdFile) open(r io.ReaderAt, size int64) error {
	f, err := hdf5.Open(r, size)
	if err != nil {
		return err
	}
	labels, err := f.Dataset("labels")
	if err != nil {
		return err
	}
	if s.labels, err = labels.Ints(); err != nil {
		return err
	}
	for _, seq := range []struct {
		dst  **hdf5.Dataset
		path string
	}{{&s.times, "spikes/times"}, {&s.units, "spikes/units"}} {
		d, err := f.Dataset(seq.path)
		if err != nil {
			return err
		}
		if d.Type.Class != hdf5.VarLen || len(d.Shape) != 1 {
			return fmt.Errorf("%s holds %s elements of shape %v, want a list of variable-length arrays", seq.path, d.Type, d.Shape)
		}
		if d.Len() != len(s.labels) {
			return fmt.Errorf("%s has %d samples but labels has %d", seq.path, d.Len(), len(s.labels))
		}
		*seq.dst = d
	}
	if s.units.Type.Base.Class != hdf5.FixedPoint {
		return fmt.Errorf("spikes/units holds %s numbers, want integers", s.units.Type.Base)
	}
	if len(s.labels) == 0 {
		return errors.New("no samples")
	}
	for k, l := range s.labels {
		if l < 0 || l >= shdClasses {
			return fmt.Errorf("labels: label %d of sample %d, want 0…%d", l, k, shdClasses-1)
		}
	}
	return nil
}

func (s *shdFile) len() int { return len(s.labels) }

// close releases the file; safe on a nil or half-opened shdFile.
func (s *shdFile) close() {
	if s != nil && s.closer != nil {
		s.closer.Close()
	}
}

// shdJob asks for samples idx of file, in that order, binned into dst.
type shdJob struct {
	file *shdFile
	idx  []int
	dst  *Split
}

// shdPiece is the number of samples one goroutine decodes at a time.
const shdPiece = 512

// decodeSHD runs the jobs on GOMAXPROCS goroutines, in pieces of up to
// piece samples; each piece reads its file through its own Sequences. The
// result depends neither on the number of goroutines nor on piece.
func decodeSHD(jobs []shdJob, steps int, duration float64, piece int) error {
	type part struct {
		job    *shdJob
		lo, hi int
		out    Split
		err    error
	}
	var pieces []*part
	for j := range jobs {
		for lo := 0; lo < len(jobs[j].idx); lo += piece {
			pieces = append(pieces, &part{job: &jobs[j], lo: lo, hi: min(lo+piece, len(jobs[j].idx))})
		}
	}
	todo := make(chan *part, len(pieces))
	for _, p := range pieces {
		todo <- p
	}
	close(todo)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(pieces)) {
		wg.Go(func() {
			for p := range todo {
				p.out, p.err = p.job.file.split(p.job.idx[p.lo:p.hi], steps, duration)
			}
		})
	}
	wg.Wait()
	for _, p := range pieces {
		if p.err != nil {
			return p.err
		}
	}
	// Concatenate each job's pieces, in order, into exactly sized slices.
	for j := range jobs {
		var parts []*Split
		events := 0
		for _, p := range pieces {
			if p.job == &jobs[j] {
				parts = append(parts, &p.out)
				events += len(p.out.Times)
			}
		}
		out := newSplit(len(jobs[j].idx), events)
		for _, part := range parts {
			for k := range part.Len() {
				ts, us := part.Events(k)
				if err := out.appendSample(ts, us, part.Labels[k]); err != nil {
					return fmt.Errorf("%s: %w", jobs[j].file.path, err)
				}
			}
		}
		*jobs[j].dst = out
	}
	return nil
}

// split decodes and bins samples idx, in that order, into a Split.
func (s *shdFile) split(idx []int, steps int, duration float64) (Split, error) {
	times, err := s.times.Sequences()
	if err != nil {
		return Split{}, fmt.Errorf("%s: %w", s.path, err)
	}
	units, err := s.units.Sequences()
	if err != nil {
		return Split{}, fmt.Errorf("%s: %w", s.path, err)
	}
	spikes := 0 // an upper bound on the events
	for _, k := range idx {
		spikes += times.SeqLen(k)
	}
	b := newSHDBinner(steps, duration)
	out := newSplit(len(idx), spikes)
	var t []float64
	var u []int64
	for _, k := range idx {
		if t, err = times.Floats(t, k); err != nil {
			return Split{}, fmt.Errorf("%s: %w", s.path, err)
		}
		if u, err = units.Ints(u, k); err != nil {
			return Split{}, fmt.Errorf("%s: %w", s.path, err)
		}
		ts, us, err := b.bin(t, u)
		if err != nil {
			return Split{}, fmt.Errorf("%s: sample %d: %w", s.path, k, err)
		}
		if err := out.appendSample(ts, us, uint8(s.labels[k])); err != nil {
			return Split{}, fmt.Errorf("%s: %w", s.path, err)
		}
	}
	return out, nil
}

// openMaybeGzip opens path for random access: a plain file as is (closer
// closes it), a gzip file (recognised by its magic number) decompressed into
// memory (closer is nil).
func openMaybeGzip(path string) (io.ReaderAt, int64, io.Closer, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, 0, nil, err
	}
	br := bufio.NewReader(fh)
	magic, _ := br.Peek(2)
	if !bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		st, err := fh.Stat()
		if err != nil {
			fh.Close()
			return nil, 0, nil, err
		}
		return fh, st.Size(), fh, nil
	}
	defer fh.Close()
	zr, err := gzip.NewReader(br)
	if err != nil {
		return nil, 0, nil, fmt.Errorf("%s: %w", path, err)
	}
	var data bytes.Buffer
	data.Grow(gzipSizeHint(fh))
	if _, err := data.ReadFrom(zr); err != nil {
		return nil, 0, nil, fmt.Errorf("%s: decompressing: %w", path, err)
	}
	return bytes.NewReader(data.Bytes()), int64(data.Len()), nil, nil
}

// gzipSizeHint returns the uncompressed size a gzip file states in its
// trailer (ISIZE: the size modulo 2³², of the last member), or 0. It only
// sizes a buffer: a wrong value costs copying, not correctness.
func gzipSizeHint(fh *os.File) int {
	st, err := fh.Stat()
	if err != nil || st.Size() < 4 {
		return 0
	}
	var trailer [4]byte
	if _, err := fh.ReadAt(trailer[:], st.Size()-4); err != nil {
		return 0
	}
	// A valid deflate stream expands at most about 1032 times.
	return int(min(int64(binary.LittleEndian.Uint32(trailer[:])), 1032*st.Size()))
}
