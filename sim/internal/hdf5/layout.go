package hdf5

import "fmt"

// Storage layout classes ("Data Layout Message").
const (
	layoutCompact    = 0
	layoutContiguous = 1
	layoutChunked    = 2
	layoutVirtual    = 3
)

// Chunk index types of layout message version 4.
const (
	indexBTreeV1    = 0 // not a version 4 type: the version 3 chunk B-tree
	indexSingle     = 1
	indexImplicit   = 2
	indexFixedArray = 3
	indexExtensible = 4
	indexBTreeV2    = 5
)

var indexNames = map[uint8]string{
	indexSingle: "single chunk", indexImplicit: "implicit", indexFixedArray: "fixed array",
	indexExtensible: "extensible array", indexBTreeV2: "version 2 B-tree",
}

// layout is a decoded data layout message.
type layout struct {
	class uint8
	// compact holds the data of a compact dataset.
	compact []byte
	// addr and size locate contiguous data (size in bytes).
	addr, size uint64
	// chunk holds the chunk dimensions, in elements, without the trailing
	// element-size dimension.
	chunk []uint64
	// index is the chunk index type; indexAddr its address.
	index     uint8
	indexAddr uint64
	// singleSize and singleMask describe a filtered single chunk.
	singleSize uint64
	singleMask uint32
}

func (f *File) decodeLayout(data []byte) (*layout, error) {
	c := f.cursor(data)
	version := c.u8()
	if version < 3 || version > 4 {
		return nil, unsupported("data layout message version %d", version)
	}
	l := &layout{class: c.u8()}
	switch l.class {
	case layoutCompact:
		n := int(c.u16())
		l.compact = c.take(n)
	case layoutContiguous:
		l.addr, l.size = c.addr(), c.length()
	case layoutChunked:
		if version == 3 {
			rank := int(c.u8())
			l.indexAddr = c.addr()
			if rank < 2 || rank > maxRank+1 {
				return nil, corrupt("chunked layout of rank %d", rank-1)
			}
			for range rank {
				l.chunk = append(l.chunk, uint64(c.u32()))
			}
			l.index = indexBTreeV1
		} else {
			flags := c.u8()
			rank := int(c.u8())
			width := int(c.u8())
			if rank < 2 || rank > maxRank+1 || width < 1 || width > 8 {
				return nil, corrupt("chunked layout of rank %d with %d-byte dimensions", rank-1, width)
			}
			for range rank {
				l.chunk = append(l.chunk, c.uint(width))
			}
			l.index = c.u8()
			switch l.index {
			case indexSingle:
				if flags&2 != 0 {
					l.singleSize = c.length()
					l.singleMask = c.u32()
				}
			case indexImplicit:
			case indexFixedArray:
				c.u8() // page bits: also in the array header
			case indexExtensible:
				c.skip(5) // array parameters: also in the array header
			case indexBTreeV2:
				return nil, unsupported("version 2 B-tree chunk index (datasets with several unlimited dimensions written with libver=latest)")
			default:
				return nil, corrupt("chunk index type %d", l.index)
			}
			l.indexAddr = c.addr()
		}
		// The last chunk dimension is the element size: drop it.
		l.chunk = l.chunk[:len(l.chunk)-1]
		for _, d := range l.chunk {
			if d == 0 {
				return nil, corrupt("chunk dimension 0")
			}
		}
	case layoutVirtual:
		return nil, unsupported("virtual dataset storage")
	default:
		return nil, corrupt("layout class %d", l.class)
	}
	if c.truncated {
		return nil, corrupt("truncated data layout message")
	}
	return l, nil
}

// Filter identifiers ("Filter Pipeline Message").
const (
	filterDeflate    = 1
	filterShuffle    = 2
	filterFletcher32 = 3
)

// filter is one stage of a filter pipeline.
type filter struct {
	id     uint16
	name   string
	params []uint32
}

func (f *File) decodeFilters(data []byte) ([]filter, error) {
	c := f.cursor(data)
	version, n := c.u8(), int(c.u8())
	if version == 1 {
		c.skip(6)
	} else if version != 2 {
		return nil, corrupt("filter pipeline version %d", version)
	}
	if n > 32 {
		return nil, corrupt("%d filters", n)
	}
	var out []filter
	for range n {
		var fl filter
		fl.id = c.u16()
		nameLen := 0
		if version == 1 || fl.id >= 256 {
			nameLen = int(c.u16())
		}
		c.u16() // flags (optional or not: every filter present was applied)
		nParams := int(c.u16())
		if version == 1 {
			nameLen = (nameLen + 7) &^ 7
		}
		name := c.take(nameLen)
		for i := 0; i < len(name); i++ {
			if name[i] == 0 {
				name = name[:i]
				break
			}
		}
		fl.name = string(name)
		if nParams > c.remaining()/4 {
			return nil, corrupt("filter %d with %d parameters", fl.id, nParams)
		}
		for range nParams {
			fl.params = append(fl.params, c.u32())
		}
		if version == 1 && nParams%2 == 1 {
			c.skip(4)
		}
		switch fl.id {
		case filterDeflate, filterShuffle, filterFletcher32:
		default:
			return nil, unsupported("filter %d %q (only deflate, shuffle and fletcher32 are read)", fl.id, fl.name)
		}
		out = append(out, fl)
	}
	if c.truncated {
		return nil, corrupt("truncated filter pipeline message")
	}
	return out, nil
}

// decodeFillValue returns the fill value bytes if the fill value message
// (versions 1–3) defines one, else nil (meaning zeros).
func (f *File) decodeFillValue(data []byte) ([]byte, error) {
	c := f.cursor(data)
	version := c.u8()
	var defined bool
	switch version {
	case 1, 2:
		c.u8() // space allocation time
		c.u8() // fill value write time
		defined = c.u8() != 0
	case 3:
		flags := c.u8()
		defined = flags&0x20 != 0
	default:
		return nil, corrupt("fill value message version %d", version)
	}
	var v []byte
	if version == 1 || defined { // version 1 always stores a size
		v = c.take(int(c.u32()))
	}
	if c.truncated {
		return nil, corrupt("truncated fill value message")
	}
	if !defined || len(v) == 0 {
		return nil, nil
	}
	return v, nil
}

func (l *layout) String() string {
	switch l.class {
	case layoutCompact:
		return "compact"
	case layoutContiguous:
		return "contiguous"
	}
	if l.index == indexBTreeV1 {
		return fmt.Sprintf("chunked %v (B-tree)", l.chunk)
	}
	return fmt.Sprintf("chunked %v (%s)", l.chunk, indexNames[l.index])
}
