package hdf5

import "math"

// dataspace is a decoded dataspace message ("Dataspace Message", versions
// 1 and 2). A scalar has no dimensions and one element; a null dataspace
// has no elements.
type dataspace struct {
	dims []uint64
	// maxDims holds the maximum dimensions (unlimitedDim if unlimited);
	// equal to dims when the message stores none.
	maxDims []uint64
	null    bool
}

// unlimitedDim is the maximum size of an unlimited dimension.
const unlimitedDim = ^uint64(0)

// maxRank is libhdf5's H5S_MAX_RANK.
const maxRank = 32

func (f *File) decodeDataspace(data []byte) (*dataspace, error) {
	c := f.cursor(data)
	version, rank, flags := c.u8(), int(c.u8()), c.u8()
	s := &dataspace{}
	switch version {
	case 1:
		c.skip(5)
	case 2:
		switch typ := c.u8(); typ {
		case 0: // scalar
		case 1: // simple
		case 2:
			s.null = true
		default:
			return nil, corrupt("dataspace type %d", typ)
		}
	default:
		return nil, corrupt("dataspace version %d", version)
	}
	if rank > maxRank {
		return nil, corrupt("dataspace of rank %d", rank)
	}
	for range rank {
		s.dims = append(s.dims, c.length())
	}
	s.maxDims = s.dims
	if flags&1 != 0 {
		s.maxDims = make([]uint64, rank)
		for i := range rank {
			if s.maxDims[i] = c.length(); c.lenSize < 8 && s.maxDims[i] == 1<<(8*c.lenSize)-1 {
				s.maxDims[i] = unlimitedDim
			}
		}
	}
	if c.truncated {
		return nil, corrupt("truncated dataspace message")
	}
	return s, nil
}

// count returns the number of elements, or false if it overflows.
func (s *dataspace) count() (uint64, bool) {
	if s.null {
		return 0, true
	}
	n := uint64(1)
	for _, d := range s.dims {
		if d != 0 && n > math.MaxUint64/d {
			return 0, false
		}
		n *= d
	}
	return n, true
}
