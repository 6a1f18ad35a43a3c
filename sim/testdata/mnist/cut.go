//go:build ignore

// Cut writes the MNIST subset the sim tests read: the first -train training
// and -test test images (and their labels) of the official files, as gzip
// IDX files of the same names, and their SHA-256 sums in SHA256SUMS. It
// checks the source files against the SHA-256 sums pinned in
// sim.DataSources first. From the repository's root:
//
//	go run sim/testdata/mnist/cut.go -from DIR/mnist
//
// (DIR as `sgsweep data get mnist --dataset-dir DIR` fills it). The output
// is deterministic for a given Go release (gzip without name or time); the
// sums recorded in SHA256SUMS are those of the files committed, which
// TestMNISTSubset checks.
package main

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/sgsweep/sgsweep/sim"
)

func main() {
	from := flag.String("from", "", "`DIR` holding the official MNIST .gz files")
	to := flag.String("to", "sim/testdata/mnist", "output `DIR`")
	train := flag.Int("train", 1000, "training images to keep")
	test := flag.Int("test", 200, "test images to keep")
	flag.Parse()
	if *from == "" {
		log.Fatal("-from DIR is required")
	}
	src, _ := sim.DataSourceOf(sim.DatasetMNIST)
	var sums strings.Builder
	for _, f := range src.Files {
		n := *train
		if strings.HasPrefix(f.Name, "t10k") {
			n = *test
		}
		data, err := os.ReadFile(filepath.Join(*from, f.Name))
		if err != nil {
			log.Fatal(err)
		}
		if got := sha256.Sum256(data); hex.EncodeToString(got[:]) != f.SHA256 {
			log.Fatalf("%s: SHA-256 %x, want the official %s", f.Name, got, f.SHA256)
		}
		out, err := cut(data, n)
		if err != nil {
			log.Fatalf("%s: %v", f.Name, err)
		}
		if err := os.WriteFile(filepath.Join(*to, f.Name), out, 0o644); err != nil {
			log.Fatal(err)
		}
		fmt.Fprintf(&sums, "%x  %s\n", sha256.Sum256(out), f.Name)
	}
	if err := os.WriteFile(filepath.Join(*to, "SHA256SUMS"), []byte(sums.String()), 0o644); err != nil {
		log.Fatal(err)
	}
	fmt.Print(sums.String())
}

// cut returns the gzip IDX file gz cut to its first n items: the header
// with the first dimension set to n, then n items' bytes.
func cut(gz []byte, n int) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, err
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, err
	}
	if len(raw) < 8 || raw[0] != 0 || raw[1] != 0 || raw[2] != 8 {
		return nil, fmt.Errorf("not an unsigned-byte IDX file")
	}
	dims := int(raw[3])
	header := 4 + 4*dims
	count := int(binary.BigEndian.Uint32(raw[4:]))
	item := 1
	for d := 1; d < dims; d++ {
		item *= int(binary.BigEndian.Uint32(raw[4+4*d:]))
	}
	if n > count || len(raw) < header+count*item {
		return nil, fmt.Errorf("%d items of %d bytes asked, the file has %d", n, item, count)
	}
	out := append([]byte(nil), raw[:header+n*item]...)
	binary.BigEndian.PutUint32(out[4:], uint32(n))
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if _, err := zw.Write(out); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
