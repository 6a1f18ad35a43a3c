package hdf5

import (
	"errors"
	"fmt"
	"math"
)

// maxInflation bounds the size of a chunked dataset relative to the file:
// deflate cannot compress by more than about 1032:1, so a dataset whose
// stored chunks are all in the file is never bigger than this many times
// the file (datasets larger than that only exist as unwritten fill values,
// and are refused).
const maxInflation = 1100

// Dataset is a dataset found by File.Dataset: its metadata is decoded; its
// data is read by Floats, Ints or Sequences.
type Dataset struct {
	f *File
	// Path is the path the dataset was opened by.
	Path string
	// Type is the element type.
	Type *Datatype
	// Shape holds the dimensions; empty for a scalar.
	Shape []uint64
	// maxShape holds the maximum dimensions (unlimitedDim if unlimited).
	maxShape []uint64
	// n is the number of elements.
	n       uint64
	layout  *layout
	filters []filter
	fill    []byte
}

// Dataset opens the dataset at path ("spikes/times"), following hard links
// from the root group.
func (f *File) Dataset(path string) (*Dataset, error) {
	d, err := f.openDataset(path)
	if err != nil {
		return nil, fmt.Errorf("hdf5: dataset %q: %w", path, err)
	}
	return d, nil
}

func (f *File) openDataset(path string) (*Dataset, error) {
	addr := f.root
	seen := map[uint64]bool{}
	for _, name := range splitPath(path) {
		if seen[addr] {
			return nil, corrupt("group at %#x reached twice", addr)
		}
		seen[addr] = true
		g, err := f.objectHeader(addr)
		if err != nil {
			return nil, err
		}
		if addr, err = f.lookup(g, name); err != nil {
			return nil, err
		}
	}
	h, err := f.objectHeader(addr)
	if err != nil {
		return nil, err
	}
	if h.find(msgLayout) == nil {
		return nil, errors.New("not a dataset")
	}
	d := &Dataset{f: f, Path: path}
	m, err := h.need(msgDataspace, "dataspace")
	if err != nil {
		return nil, err
	}
	space, err := f.decodeDataspace(m.data)
	if err != nil {
		return nil, err
	}
	d.Shape, d.maxShape = space.dims, space.maxDims
	for i := range d.Shape {
		if d.maxShape[i] < d.Shape[i] {
			return nil, corrupt("dimension %d of size %d exceeds its maximum %d", i, d.Shape[i], d.maxShape[i])
		}
	}
	n, ok := space.count()
	if !ok || n > math.MaxInt {
		return nil, corrupt("dataspace %v overflows", space.dims)
	}
	d.n = n
	if m, err = h.need(msgDatatype, "datatype"); err != nil {
		return nil, err
	}
	if d.Type, _, err = f.decodeDatatype(m.data, 0); err != nil {
		return nil, err
	}
	if m, err = h.need(msgLayout, "data layout"); err != nil {
		return nil, err
	}
	if d.layout, err = f.decodeLayout(m.data); err != nil {
		return nil, err
	}
	if d.layout.class == layoutChunked && len(d.layout.chunk) != len(d.Shape) {
		return nil, corrupt("chunks of rank %d for a dataspace of rank %d", len(d.layout.chunk), len(d.Shape))
	}
	if h.find(msgExternal) != nil {
		return nil, unsupported("external data files")
	}
	if m := h.find(msgFilters); m != nil {
		if d.filters, err = f.decodeFilters(m.data); err != nil {
			return nil, err
		}
	}
	if m := h.find(msgFillValue); m != nil && m.flags&msgFlagShared == 0 {
		if d.fill, err = f.decodeFillValue(m.data); err != nil {
			return nil, err
		}
		if d.fill != nil && len(d.fill) != d.Type.Size {
			return nil, corrupt("fill value of %d bytes for %d-byte elements", len(d.fill), d.Type.Size)
		}
	}
	return d, nil
}

// Len returns the number of elements.
func (d *Dataset) Len() int { return int(d.n) }

// Floats reads a numeric dataset as float64s (exact for floats and for
// integers below 2⁵³).
func (d *Dataset) Floats() ([]float64, error) {
	if !d.Type.numeric() {
		return nil, d.errorf("%s elements are not numbers", d.Type)
	}
	raw, err := d.raw()
	if err != nil {
		return nil, err
	}
	return d.Type.toFloat64(make([]float64, 0, d.n), raw), nil
}

// Ints reads a fixed-point dataset.
func (d *Dataset) Ints() ([]int64, error) {
	if d.Type.Class != FixedPoint {
		return nil, d.errorf("%s elements are not integers", d.Type)
	}
	raw, err := d.raw()
	if err != nil {
		return nil, err
	}
	v, err := d.Type.toInt64(make([]int64, 0, d.n), raw)
	if err != nil {
		return nil, d.errorf("%w", err)
	}
	return v, nil
}

func (d *Dataset) errorf(format string, args ...any) error {
	return fmt.Errorf("hdf5: dataset %q: %w", d.Path, fmt.Errorf(format, args...))
}

// raw returns the stored bytes of all elements, in row-major order.
func (d *Dataset) raw() ([]byte, error) {
	b, err := d.readRaw()
	if err != nil {
		return nil, d.errorf("%s storage: %w", d.layout, err)
	}
	return b, nil
}

func (d *Dataset) readRaw() ([]byte, error) {
	f, l := d.f, d.layout
	elem := uint64(d.Type.Size)
	if d.n > math.MaxInt/elem {
		return nil, corrupt("%d elements overflow", d.n)
	}
	total := d.n * elem
	switch l.class {
	case layoutCompact:
		if uint64(len(l.compact)) < total {
			return nil, corrupt("compact data of %d bytes for %d elements", len(l.compact), d.n)
		}
		return l.compact[:total], nil
	case layoutContiguous:
		if l.addr == undefAddr {
			return d.filled(total)
		}
		if l.size < total {
			return nil, corrupt("contiguous data of %d bytes for %d elements", l.size, d.n)
		}
		return f.read(l.addr, total, "contiguous data")
	}
	limit := f.size * maxInflation
	if f.size > math.MaxInt/maxInflation {
		limit = math.MaxInt
	}
	if total > limit {
		return nil, corrupt("%d bytes of data exceed %d times the file size", total, maxInflation)
	}
	chunkBytes := elem
	for _, c := range l.chunk {
		if c > limit/chunkBytes {
			return nil, corrupt("chunk %v of %d-byte elements too big", l.chunk, elem)
		}
		chunkBytes *= c
	}
	refs, err := d.chunks(chunkBytes)
	if err != nil {
		return nil, err
	}
	out, err := d.filled(total)
	if err != nil {
		return nil, err
	}
	for _, r := range refs {
		if err := d.placeChunk(out, r, chunkBytes); err != nil {
			return nil, fmt.Errorf("chunk at %v: %w", r.offset, err)
		}
	}
	return out, nil
}

// filled returns n bytes of fill value.
func (d *Dataset) filled(n uint64) ([]byte, error) {
	out := make([]byte, n)
	if d.fill != nil {
		for i := 0; i < len(out); i += len(d.fill) {
			copy(out[i:], d.fill)
		}
	}
	return out, nil
}

// placeChunk reads, unfilters and copies one chunk into out.
func (d *Dataset) placeChunk(out []byte, r chunkRef, chunkBytes uint64) error {
	if len(r.offset) != len(d.Shape) {
		return corrupt("chunk offset of rank %d", len(r.offset))
	}
	size := r.size
	if len(d.filters) == 0 {
		size = chunkBytes
	}
	if size > d.f.size {
		return corrupt("stored chunk of %d bytes", size)
	}
	stored, err := d.f.read(r.addr, size, "chunk")
	if err != nil {
		return err
	}
	data := stored
	if len(d.filters) > 0 {
		if data, err = unfilter(d.filters, r.mask, stored, int(chunkBytes)); err != nil {
			return err
		}
	}
	for i, o := range r.offset {
		if o%d.layout.chunk[i] != 0 {
			return corrupt("chunk offset %v not on the chunk grid %v", r.offset, d.layout.chunk)
		}
		if o >= d.Shape[i] {
			return nil // beyond the current extent (left by a shrink)
		}
	}
	copyChunk(out, data, d.Shape, d.layout.chunk, r.offset, d.Type.Size)
	return nil
}

// copyChunk copies the part of a chunk (dimensions chunk, first element at
// offset) that lies inside the dataset (dimensions dims) into out; both are
// row-major arrays of elem-byte elements.
func copyChunk(out, data []byte, dims, chunk, offset []uint64, elem int) {
	rank := len(dims)
	if rank == 0 {
		copy(out, data)
		return
	}
	// ext is the extent of the chunk clipped to the dataset.
	ext := make([]uint64, rank)
	for i := range rank {
		ext[i] = min(chunk[i], dims[i]-offset[i])
	}
	// Runs along the last dimension are contiguous in both arrays.
	last := rank - 1
	run := int(ext[last]) * elem
	idx := make([]uint64, rank) // position inside the chunk; idx[last] stays 0
	for {
		var src, dst uint64
		for i := range rank {
			src = src*chunk[i] + idx[i]
			dst = dst*dims[i] + offset[i] + idx[i]
		}
		s, t := int(src)*elem, int(dst)*elem
		copy(out[t:t+run], data[s:s+run])
		i := last - 1
		for ; i >= 0; i-- {
			if idx[i]++; idx[i] < ext[i] {
				break
			}
			idx[i] = 0
		}
		if i < 0 {
			return
		}
	}
}
