// Package hdf5 is a small, read-only reader for the subset of HDF5 that
// h5py (libhdf5 1.8–1.14) writes for numeric and variable-length numeric
// datasets, which is what the Spiking Heidelberg Digits files need. It is
// pure Go so that the simulator builds with CGO_ENABLED=0.
//
// What it reads:
//   - superblocks version 0, 1, 2 and 3 (with or without a user block);
//   - object headers version 1 and 2, with continuation blocks;
//   - groups stored as symbol tables (version 1 B-tree + local heap + symbol
//     nodes, h5py's default) or as compact link messages (libver="v108" or
//     "latest", up to 8 links per group), following hard links only;
//   - dataspaces (scalar, simple, null), fixed-point and IEEE floating-point
//     datatypes of 1–8 bytes in either byte order (including 16-bit floats),
//     and variable-length sequences of those, stored in the global heap;
//   - contiguous, compact and chunked storage; chunk indexes: version 1
//     B-tree (layout message version 3), single chunk, implicit, fixed
//     array and extensible array (layout message version 4); filters
//     deflate, shuffle and fletcher32; fill values for unwritten chunks.
//
// Anything else (dense link storage, i.e. groups of more than 8 links
// written with libver="latest"; version 2 B-tree chunk indexes, i.e. several
// unlimited dimensions; other filters; compound, string, reference and other
// datatypes; external or virtual storage; shared messages) fails with an
// *UnsupportedError naming the feature. Malformed input fails with an error
// wrapping ErrCorrupt; it never panics, and no size field read from the
// file is trusted before it is checked against the file's length, so a
// corrupt or hostile file cannot make the reader allocate more than a small
// multiple of its own size (see maxInflation for compressed chunks).
//
// A File and its Datasets may be used from several goroutines (given an
// io.ReaderAt that allows it, as *os.File and *bytes.Reader do); a
// Sequences may not.
//
// Checked against h5py 3.7 / libhdf5 1.10.8 with the fixtures of
// sim/testdata/shd (gen.py).
//
// Reference: "HDF5 File Format Specification Version 3.0", The HDF Group.
// Section names of that document are cited next to each structure.
package hdf5
