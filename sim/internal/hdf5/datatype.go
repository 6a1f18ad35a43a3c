package hdf5

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"sync"
)

// Class is a datatype class ("Datatype Message").
type Class uint8

// Datatype classes. Only FixedPoint, FloatingPoint and VarLen sequences of
// those can be read.
const (
	FixedPoint    Class = 0
	FloatingPoint Class = 1
	Time          Class = 2
	String        Class = 3
	Bitfield      Class = 4
	Opaque        Class = 5
	Compound      Class = 6
	Reference     Class = 7
	Enumerated    Class = 8
	VarLen        Class = 9
	Array         Class = 10
)

var classNames = [...]string{"fixed-point", "floating-point", "time", "string", "bitfield",
	"opaque", "compound", "reference", "enumerated", "variable-length", "array"}

func (c Class) String() string {
	if int(c) < len(classNames) {
		return classNames[c]
	}
	return fmt.Sprintf("class %d", uint8(c))
}

// Datatype describes the type of a dataset's elements.
type Datatype struct {
	Class Class
	// Size is the size of one element in bytes. For VarLen it is the size of
	// the in-file descriptor (length + global heap ID), not of the data.
	Size int
	// Signed is set for signed fixed-point types.
	Signed bool
	// BigEndian is set for big-endian numbers.
	BigEndian bool
	// Base is the element type of a VarLen sequence.
	Base *Datatype
}

func (t *Datatype) String() string {
	switch t.Class {
	case FixedPoint:
		s := "uint"
		if t.Signed {
			s = "int"
		}
		return fmt.Sprintf("%s%d%s", s, 8*t.Size, t.order())
	case FloatingPoint:
		return fmt.Sprintf("float%d%s", 8*t.Size, t.order())
	case VarLen:
		return "vlen(" + t.Base.String() + ")"
	}
	return t.Class.String()
}

func (t *Datatype) order() string {
	if t.BigEndian {
		return "be"
	}
	return ""
}

// numeric reports whether values of t can be converted to numbers.
func (t *Datatype) numeric() bool { return t.Class == FixedPoint || t.Class == FloatingPoint }

// ieeeLayout is the bit layout of an IEEE 754 binary format of a given size:
// exponent position and width, mantissa width, exponent bias.
type ieeeLayout struct {
	expLoc, expSize, mantSize int
	bias                      uint32
}

var ieeeLayouts = map[int]ieeeLayout{
	2: {10, 5, 10, 15},
	4: {23, 8, 23, 127},
	8: {52, 11, 52, 1023},
}

// decodeDatatype decodes a datatype message. Nested VarLen types are
// limited to one level, which is all h5py writes for numeric sequences.
func (f *File) decodeDatatype(data []byte, depth int) (*Datatype, int, error) {
	c := f.cursor(data)
	classAndVersion := c.u8()
	bits := c.uint(3)
	size := c.u32()
	if c.truncated {
		return nil, 0, corrupt("truncated datatype message")
	}
	t := &Datatype{Class: Class(classAndVersion & 0x0f), Size: int(size)}
	if version := classAndVersion >> 4; version < 1 || version > 4 {
		return nil, 0, corrupt("datatype version %d", version)
	}
	switch t.Class {
	case FixedPoint:
		t.BigEndian = bits&1 != 0
		t.Signed = bits&0x08 != 0
		offset, precision := c.u16(), c.u16()
		if c.truncated {
			return nil, 0, corrupt("truncated fixed-point properties")
		}
		if size < 1 || size > 8 {
			return nil, 0, unsupported("%d-byte fixed-point numbers", size)
		}
		if offset != 0 || int(precision) != 8*t.Size {
			return nil, 0, unsupported("fixed-point with bit offset %d and precision %d in %d bytes", offset, precision, size)
		}
	case FloatingPoint:
		if bits&0x41 == 0x41 {
			return nil, 0, unsupported("VAX byte order")
		}
		t.BigEndian = bits&1 != 0
		signLoc := int(bits>>8) & 0xff
		norm := (bits >> 4) & 3
		offset, precision := c.u16(), c.u16()
		expLoc, expSize, mantLoc, mantSize := int(c.u8()), int(c.u8()), c.u8(), int(c.u8())
		bias := c.u32()
		if c.truncated {
			return nil, 0, corrupt("truncated floating-point properties")
		}
		want, ok := ieeeLayouts[t.Size]
		got := ieeeLayout{expLoc, expSize, mantSize, bias}
		if !ok || got != want || offset != 0 || int(precision) != 8*t.Size ||
			mantLoc != 0 || signLoc != 8*t.Size-1 || norm != 2 {
			return nil, 0, unsupported("%d-byte floating-point layout (sign %d, exponent %d+%d, mantissa %d+%d, bias %d, normalization %d): only IEEE 754 binary16/32/64",
				size, signLoc, expLoc, expSize, mantLoc, mantSize, bias, norm)
		}
	case VarLen:
		if kind := bits & 0x0f; kind != 0 {
			return nil, 0, unsupported("variable-length string datatype")
		}
		if depth > 0 {
			return nil, 0, unsupported("nested variable-length datatype")
		}
		base, n, err := f.decodeDatatype(data[c.off:], depth+1)
		if err != nil {
			return nil, 0, fmt.Errorf("variable-length base type: %w", err)
		}
		if !base.numeric() {
			return nil, 0, unsupported("variable-length sequence of %s", base.Class)
		}
		if want := 4 + f.offSize + 4; t.Size != want {
			return nil, 0, corrupt("variable-length descriptor of %d bytes, want %d", t.Size, want)
		}
		t.Base = base
		c.skip(n)
	default:
		return nil, 0, unsupported("%s datatype", t.Class)
	}
	return t, c.off, nil
}

// float16 converts IEEE 754 binary16 bits to a float64, exactly.
func float16(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp := int(h>>10) & 0x1f
	mant := float64(h & 0x3ff)
	switch exp {
	case 0: // zero or subnormal
		return sign * math.Ldexp(mant, -24)
	case 0x1f:
		if mant != 0 {
			return math.NaN()
		}
		return math.Inf(int(sign))
	}
	return sign * math.Ldexp(1024+mant, exp-25)
}

// float16Table maps every binary16 bit pattern to its value, built on
// first use (512 KiB): SHD's spike times are 16-bit floats.
var float16Table = sync.OnceValue(func() *[1 << 16]float64 {
	var tab [1 << 16]float64
	for h := range tab {
		tab[h] = float16(uint16(h))
	}
	return &tab
})

// toFloat64 appends the numbers in raw (elements of numeric type t) to dst
// as float64, exactly for every float and for integers up to 2⁵³.
func (t *Datatype) toFloat64(dst []float64, raw []byte) []float64 {
	var order binary.ByteOrder = binary.LittleEndian
	if t.BigEndian {
		order = binary.BigEndian
	}
	n := len(raw) / t.Size
	dst = slices.Grow(dst, n)
	switch {
	case t.Class == FloatingPoint && t.Size == 2 && !t.BigEndian:
		tab := float16Table()
		for i := range n {
			dst = append(dst, tab[binary.LittleEndian.Uint16(raw[2*i:])])
		}
	case t.Class == FloatingPoint && t.Size == 2:
		tab := float16Table()
		for i := range n {
			dst = append(dst, tab[order.Uint16(raw[2*i:])])
		}
	case t.Class == FloatingPoint && t.Size == 4:
		for i := range n {
			dst = append(dst, float64(math.Float32frombits(order.Uint32(raw[4*i:]))))
		}
	case t.Class == FloatingPoint && t.Size == 8:
		for i := range n {
			dst = append(dst, math.Float64frombits(order.Uint64(raw[8*i:])))
		}
	case t.Signed:
		for i := range n {
			dst = append(dst, float64(t.int(raw[i*t.Size:], order)))
		}
	default:
		for i := range n {
			dst = append(dst, float64(t.uint(raw[i*t.Size:], order)))
		}
	}
	return dst
}

// toInt64 appends the integers in raw (elements of fixed-point type t) to
// dst. Unsigned 64-bit values above MaxInt64 are an error.
func (t *Datatype) toInt64(dst []int64, raw []byte) ([]int64, error) {
	if t.Class != FixedPoint {
		return dst, fmt.Errorf("%s values are not integers", t)
	}
	var order binary.ByteOrder = binary.LittleEndian
	if t.BigEndian {
		order = binary.BigEndian
	}
	n := len(raw) / t.Size
	dst = slices.Grow(dst, n)
	if !t.Signed && t.Size == 2 && !t.BigEndian { // the common case: SHD units and labels
		for i := range n {
			dst = append(dst, int64(binary.LittleEndian.Uint16(raw[2*i:])))
		}
		return dst, nil
	}
	for i := range n {
		if t.Signed {
			dst = append(dst, t.int(raw[i*t.Size:], order))
			continue
		}
		v := t.uint(raw[i*t.Size:], order)
		if v > math.MaxInt64 {
			return dst, fmt.Errorf("element %d: %d overflows int64", i, v)
		}
		dst = append(dst, int64(v))
	}
	return dst, nil
}

// uint reads one unsigned element of t.Size bytes.
func (t *Datatype) uint(b []byte, order binary.ByteOrder) uint64 {
	switch t.Size {
	case 1:
		return uint64(b[0])
	case 2:
		return uint64(order.Uint16(b))
	case 4:
		return uint64(order.Uint32(b))
	case 8:
		return order.Uint64(b)
	}
	var v uint64
	for i := range t.Size {
		if t.BigEndian {
			v = v<<8 | uint64(b[i])
		} else {
			v |= uint64(b[i]) << (8 * i)
		}
	}
	return v
}

// int reads one signed element of t.Size bytes, sign-extending it.
func (t *Datatype) int(b []byte, order binary.ByteOrder) int64 {
	shift := 64 - 8*t.Size
	return int64(t.uint(b, order)<<shift) >> shift
}
