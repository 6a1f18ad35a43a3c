package hdf5

import "fmt"

// heapObject locates the data of one global heap object: size bytes at
// offset off of the collection at coll.
type heapObject struct {
	coll, off, size uint64
}

// heapKey names a global heap object: collection address, object index.
type heapKey struct {
	coll  uint64
	index uint32
}

// readCollection parses the global heap collection at addr ("Global
// Heap"), adding its objects to objs, and returns its bytes, read into buf
// if it is big enough.
func (f *File) readCollection(addr uint64, objs map[heapKey]heapObject, buf []byte) ([]byte, error) {
	head, err := f.readUpTo(addr, uint64(8+f.lenSize), "global heap collection")
	if err != nil {
		return nil, err
	}
	c := f.cursor(head)
	if string(c.take(4)) != "GCOL" {
		return nil, corrupt("global heap collection at %#x: bad signature", addr)
	}
	c.u8() // version
	c.skip(3)
	size := c.length()
	if c.truncated || size < uint64(c.off) {
		return nil, corrupt("global heap collection at %#x: bad header", addr)
	}
	if size > f.size {
		return nil, corrupt("global heap collection at %#x of %d bytes", addr, size)
	}
	b := buf[:0]
	if uint64(cap(b)) < size {
		b = make([]byte, size)
	}
	b = b[:size]
	if err := f.readInto(b, addr, "global heap collection"); err != nil {
		return nil, err
	}
	c = f.cursor(b)
	c.skip(8 + f.lenSize)
	for c.remaining() >= 8+f.lenSize {
		index := c.u16()
		c.u16() // reference count
		c.skip(4)
		n := c.length()
		if index == 0 { // free space: the rest of the collection
			break
		}
		if n > uint64(c.remaining()) {
			return nil, corrupt("global heap object %d of %d bytes runs past its collection at %#x", index, n, addr)
		}
		objs[heapKey{addr, uint32(index)}] = heapObject{coll: addr, off: uint64(c.off), size: n}
		c.skip(int(n))
		c.skip(int((8 - n%8) % 8)) // objects are padded to 8 bytes
	}
	return b, nil
}

// Sequences gives access to the elements of a variable-length dataset: one
// sequence of numbers per element, read on demand from the global heap. It
// is not safe for concurrent use.
//
// Each collection of the global heap is parsed once, and only its object
// directory is kept; an object is read straight from the file, or from the
// last collection parsed (h5py writes a dataset's sequences in order, so
// reading them in order reads each byte about once). Collections of a valid
// file do not overlap, so parsing more bytes of them than the file has is
// an error: a corrupt file cannot make the reader parse the same bytes over
// and over.
type Sequences struct {
	d *Dataset
	// desc holds the in-file descriptors: length (4 bytes), collection
	// address (offSize bytes) and object index (4 bytes) per element.
	desc []byte
	// objs holds the objects of every collection parsed; parsed is the
	// total size of those collections, in bytes.
	objs   map[heapKey]heapObject
	seen   map[uint64]bool
	parsed uint64
	// lastAddr and last are the address and bytes of the last collection
	// parsed.
	lastAddr uint64
	last     []byte
	buf      []byte
}

// Sequences reads the descriptors of a variable-length numeric dataset.
func (d *Dataset) Sequences() (*Sequences, error) {
	if d.Type.Class != VarLen {
		return nil, d.errorf("%s elements are not variable-length sequences", d.Type)
	}
	desc, err := d.raw()
	if err != nil {
		return nil, err
	}
	return &Sequences{d: d, desc: desc, objs: map[heapKey]heapObject{}, seen: map[uint64]bool{}, lastAddr: undefAddr}, nil
}

// Len returns the number of sequences.
func (s *Sequences) Len() int { return int(s.d.n) }

// Type returns the type of the numbers in each sequence.
func (s *Sequences) Type() *Datatype { return s.d.Type.Base }

// SeqLen returns the length of sequence i, as stored in its descriptor.
func (s *Sequences) SeqLen(i int) int {
	c := s.d.f.cursor(s.desc[i*s.d.Type.Size:])
	return int(c.u32())
}

// Floats appends the numbers of sequence i to dst[:0] as float64s and
// returns the result (reusing dst's storage when it is big enough).
func (s *Sequences) Floats(dst []float64, i int) ([]float64, error) {
	raw, err := s.bytes(i)
	if err != nil {
		return dst[:0], err
	}
	return s.d.Type.Base.toFloat64(dst[:0], raw), nil
}

// Ints appends the numbers of sequence i, which must be fixed-point, to
// dst[:0] and returns the result.
func (s *Sequences) Ints(dst []int64, i int) ([]int64, error) {
	raw, err := s.bytes(i)
	if err != nil {
		return dst[:0], err
	}
	v, err := s.d.Type.Base.toInt64(dst[:0], raw)
	if err != nil {
		return v, s.errorf(i, "%w", err)
	}
	return v, nil
}

func (s *Sequences) errorf(i int, format string, args ...any) error {
	return s.d.errorf("sequence %d: %w", i, fmt.Errorf(format, args...))
}

// bytes returns the stored bytes of sequence i, in a buffer reused by the
// next call.
func (s *Sequences) bytes(i int) ([]byte, error) {
	if i < 0 || i >= s.Len() {
		return nil, s.errorf(i, "index out of range [0, %d)", s.Len())
	}
	f := s.d.f
	c := f.cursor(s.desc[i*s.d.Type.Size:])
	n, addr, index := uint64(c.u32()), c.addr(), c.u32()
	if n == 0 {
		return nil, nil
	}
	want := n * uint64(s.d.Type.Base.Size)
	if !s.seen[addr] {
		s.lastAddr = undefAddr // its buffer is reused
		b, err := f.readCollection(addr, s.objs, s.last)
		if err != nil {
			return nil, s.errorf(i, "%w", err)
		}
		s.seen[addr] = true
		if s.parsed += uint64(len(b)); s.parsed > f.size {
			return nil, s.errorf(i, "%w", corrupt("global heap collections overlap"))
		}
		s.lastAddr, s.last = addr, b
	}
	obj, ok := s.objs[heapKey{addr, index}]
	if !ok {
		return nil, s.errorf(i, "%w", corrupt("no object %d in global heap collection at %#x", index, addr))
	}
	if obj.size < want {
		return nil, s.errorf(i, "%w", corrupt("%d elements in a %d-byte heap object", n, obj.size))
	}
	if addr == s.lastAddr {
		return s.last[obj.off : obj.off+want], nil
	}
	if uint64(cap(s.buf)) < want {
		s.buf = make([]byte, want)
	}
	s.buf = s.buf[:want]
	if err := f.readInto(s.buf, obj.coll+obj.off, "global heap object"); err != nil {
		return nil, s.errorf(i, "%w", err)
	}
	return s.buf, nil
}
