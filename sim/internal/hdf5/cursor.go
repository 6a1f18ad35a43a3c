package hdf5

import "encoding/binary"

// cursor decodes the little-endian fields of one metadata structure held in
// memory. Reading past the end sets truncated and yields zeros, so a parser
// can decode a whole structure and check once.
type cursor struct {
	b         []byte
	off       int
	truncated bool
	// offSize and lenSize are the file's "size of offsets" and "size of
	// lengths", in bytes (2, 4 or 8).
	offSize, lenSize int
}

func (f *File) cursor(b []byte) *cursor {
	return &cursor{b: b, offSize: f.offSize, lenSize: f.lenSize}
}

// take returns the next n bytes, or nil (and sets truncated) if fewer remain.
func (c *cursor) take(n int) []byte {
	if n < 0 || n > len(c.b)-c.off {
		c.truncated = true
		c.off = len(c.b)
		return nil
	}
	p := c.b[c.off : c.off+n]
	c.off += n
	return p
}

func (c *cursor) remaining() int { return len(c.b) - c.off }

func (c *cursor) skip(n int) { c.take(n) }

func (c *cursor) u8() uint8 {
	if p := c.take(1); p != nil {
		return p[0]
	}
	return 0
}

func (c *cursor) u16() uint16 {
	if p := c.take(2); p != nil {
		return binary.LittleEndian.Uint16(p)
	}
	return 0
}

func (c *cursor) u32() uint32 {
	if p := c.take(4); p != nil {
		return binary.LittleEndian.Uint32(p)
	}
	return 0
}

func (c *cursor) u64() uint64 {
	if p := c.take(8); p != nil {
		return binary.LittleEndian.Uint64(p)
	}
	return 0
}

// uint reads an n-byte little-endian unsigned integer, 0 ≤ n ≤ 8.
func (c *cursor) uint(n int) uint64 {
	if n > 8 {
		c.truncated = true
		return 0
	}
	p := c.take(n)
	var v uint64
	for i := len(p) - 1; i >= 0; i-- {
		v = v<<8 | uint64(p[i])
	}
	return v
}

// addr reads a file address of offSize bytes; the all-ones "undefined
// address" becomes undefAddr whatever offSize is.
func (c *cursor) addr() uint64 {
	v := c.uint(c.offSize)
	if c.offSize < 8 && v == 1<<(8*c.offSize)-1 {
		return undefAddr
	}
	return v
}

// length reads a length field of lenSize bytes.
func (c *cursor) length() uint64 { return c.uint(c.lenSize) }

// undefAddr is the undefined address (all bits set).
const undefAddr = ^uint64(0)
