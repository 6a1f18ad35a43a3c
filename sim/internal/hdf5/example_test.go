package hdf5_test

import (
	"fmt"
	"log"
	"os"

	"github.com/sgsweep/sgsweep/sim/internal/hdf5"
)

// Reading an SHD-layout file: labels, and the spike times and channels of
// one sample.
func ExampleOpen() {
	fh, err := os.Open("../../testdata/shd/shd_train.h5")
	if err != nil {
		log.Fatal(err)
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		log.Fatal(err)
	}
	f, err := hdf5.Open(fh, st.Size())
	if err != nil {
		log.Fatal(err)
	}
	labels, err := f.Dataset("labels")
	if err != nil {
		log.Fatal(err)
	}
	l, err := labels.Ints()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("labels:", labels.Type, labels.Shape, l[:3])

	times, err := f.Dataset("spikes/times")
	if err != nil {
		log.Fatal(err)
	}
	seqs, err := times.Sequences()
	if err != nil {
		log.Fatal(err)
	}
	t, err := seqs.Floats(nil, 1)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("times:", times.Type, "sample 1:", t)
	// Output:
	// labels: uint16 [20] [3 19 0]
	// times: vlen(float16) sample 1: [0.5 0.125 0.1875 0.1875 0.9990234375 0.7490234375 0.0625]
}
