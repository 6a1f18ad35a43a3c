package hdf5

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"io"
)

// unfilter undoes the filter pipeline on one stored chunk, last filter
// first, skipping the filters whose bit is set in mask. want is the size of
// the unfiltered chunk in bytes: no stage may produce more than that (plus
// room for checksums), which bounds what a corrupt chunk can allocate.
func unfilter(pipeline []filter, mask uint32, data []byte, want int) ([]byte, error) {
	for i := len(pipeline) - 1; i >= 0; i-- {
		if i < 32 && mask&(1<<i) != 0 {
			continue
		}
		var err error
		switch fl := pipeline[i]; fl.id {
		case filterDeflate:
			data, err = inflate(data, want+4*len(pipeline))
		case filterShuffle:
			size := 0
			if len(fl.params) > 0 {
				size = int(fl.params[0])
			}
			data, err = unshuffle(data, size)
		case filterFletcher32:
			data, err = checkFletcher32(data)
		default:
			err = unsupported("filter %d", fl.id)
		}
		if err != nil {
			return nil, err
		}
	}
	if len(data) != want {
		return nil, corrupt("chunk unfilters to %d bytes, want %d", len(data), want)
	}
	return data, nil
}

// inflate decompresses a zlib stream of at most limit bytes.
func inflate(data []byte, limit int) ([]byte, error) {
	zr, err := zlib.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, corrupt("deflate filter: %v", err)
	}
	var out bytes.Buffer
	out.Grow(limit)
	n, err := io.Copy(&out, io.LimitReader(zr, int64(limit)+1))
	if err != nil {
		return nil, corrupt("deflate filter: %v", err)
	}
	if n > int64(limit) {
		return nil, corrupt("deflate filter: chunk inflates past %d bytes", limit)
	}
	return out.Bytes(), nil
}

// unshuffle undoes the byte shuffle of elements of size bytes: the stored
// chunk holds every element's first byte, then every second byte, and so on;
// trailing bytes that do not fill an element are left in place.
func unshuffle(data []byte, size int) ([]byte, error) {
	if size <= 0 {
		return nil, corrupt("shuffle filter with element size %d", size)
	}
	if size == 1 {
		return data, nil
	}
	n := len(data) / size
	out := make([]byte, len(data))
	for j := range size {
		src := data[j*n : (j+1)*n]
		for i, b := range src {
			out[i*size+j] = b
		}
	}
	copy(out[n*size:], data[n*size:])
	return out, nil
}

// checkFletcher32 verifies and strips the 4-byte Fletcher-32 checksum that
// ends a chunk (H5Zfletcher32.c; data read as big-endian 16-bit words). Like
// libhdf5 it also accepts the byte-swapped sum that versions before 1.6.3
// wrote.
func checkFletcher32(data []byte) ([]byte, error) {
	if len(data) < 4 {
		return nil, corrupt("fletcher32 filter: chunk of %d bytes", len(data))
	}
	n := len(data) - 4
	stored := binary.LittleEndian.Uint32(data[n:])
	sum := fletcher32(data[:n])
	swapped := (sum&0x00ff00ff)<<8 | (sum&0xff00ff00)>>8
	if stored != sum && stored != swapped {
		return nil, corrupt("fletcher32 filter: checksum %#08x, stored %#08x", sum, stored)
	}
	return data[:n], nil
}

func fletcher32(b []byte) uint32 {
	var s1, s2 uint32
	for len(b) >= 2 {
		block := min(len(b)/2, 360)
		for range block {
			s1 += uint32(b[0])<<8 | uint32(b[1])
			s2 += s1
			b = b[2:]
		}
		s1 = s1&0xffff + s1>>16
		s2 = s2&0xffff + s2>>16
	}
	if len(b) == 1 {
		s1 += uint32(b[0]) << 8
		s2 += s1
		s1 = s1&0xffff + s1>>16
		s2 = s2&0xffff + s2>>16
	}
	s1 = s1&0xffff + s1>>16
	s2 = s2&0xffff + s2>>16
	return s2<<16 | s1
}
