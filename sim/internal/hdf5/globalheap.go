package hdf5

import "fmt"

// collection is a parsed global heap collection ("Global Heap"): the data
// of each object, by heap object index.
type collection struct {
	addr    uint64
	objects map[uint16][]byte
}

// maxCollections is how many parsed collections a Sequences keeps. h5py
// writes the sequences of one dataset into consecutive collections, so a
// small cache makes sequential reads touch each collection once.
const maxCollections = 4

// readCollection parses the global heap collection at addr.
func (f *File) readCollection(addr uint64) (*collection, error) {
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
	b, err := f.read(addr, size, "global heap collection")
	if err != nil {
		return nil, err
	}
	coll := &collection{addr: addr, objects: map[uint16][]byte{}}
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
		coll.objects[index] = c.take(int(n))
		c.skip(int((8 - n%8) % 8)) // objects are padded to 8 bytes
	}
	return coll, nil
}

// Sequences gives access to the elements of a variable-length dataset: one
// sequence of numbers per element, read on demand from the global heap. It
// is not safe for concurrent use.
type Sequences struct {
	d *Dataset
	// desc holds the in-file descriptors: length (4 bytes), collection
	// address (offSize bytes) and object index (4 bytes) per element.
	desc  []byte
	cache []*collection
	next  int // cache slot to replace next
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
	return &Sequences{d: d, desc: desc}, nil
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

// bytes returns the stored bytes of sequence i.
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
	coll, err := s.collection(addr)
	if err != nil {
		return nil, s.errorf(i, "%w", err)
	}
	obj, ok := coll.objects[uint16(index)]
	if !ok || index > 0xffff {
		return nil, s.errorf(i, "%w", corrupt("no object %d in global heap collection at %#x", index, addr))
	}
	if uint64(len(obj)) < want {
		return nil, s.errorf(i, "%w", corrupt("%d elements in a %d-byte heap object", n, len(obj)))
	}
	return obj[:want], nil
}

// collection returns the parsed collection at addr, from the cache if
// possible.
func (s *Sequences) collection(addr uint64) (*collection, error) {
	for _, c := range s.cache {
		if c.addr == addr {
			return c, nil
		}
	}
	c, err := s.d.f.readCollection(addr)
	if err != nil {
		return nil, err
	}
	if len(s.cache) < maxCollections {
		s.cache = append(s.cache, c)
	} else {
		s.cache[s.next] = c
		s.next = (s.next + 1) % maxCollections
	}
	return c, nil
}
