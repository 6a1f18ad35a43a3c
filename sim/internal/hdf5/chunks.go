package hdf5

import (
	"encoding/binary"
	"fmt"
	"math"
)

// chunkRef locates one stored chunk.
type chunkRef struct {
	// offset is the coordinate of the chunk's first element, per dimension.
	offset []uint64
	// addr and size locate the stored (filtered) bytes.
	addr, size uint64
	// mask has bit i set if filter i was not applied to this chunk.
	mask uint32
}

// indexGrid returns the chunk grid that the implicit, fixed array and
// extensible array indexes enumerate in row-major order: it spans the
// maximum dimensions (libhdf5's max_down_chunks), not the current ones.
// An unlimited dimension, which only the extensible array allows and only
// as the slowest, counts as one chunk. ok is false if the grid overflows.
func indexGrid(maxDims, chunk []uint64) (grid []uint64, total uint64, ok bool) {
	grid = make([]uint64, len(maxDims))
	total = 1
	for i := range maxDims {
		grid[i] = 1
		if maxDims[i] != unlimitedDim {
			grid[i] = maxDims[i]/chunk[i] + min(maxDims[i]%chunk[i], 1)
		}
		if grid[i] != 0 && total > math.MaxUint64/grid[i] {
			return nil, 0, false
		}
		total *= grid[i]
	}
	return grid, total, true
}

// gridOffset returns the element offset of chunk number k of the grid, in
// row-major order.
func gridOffset(k uint64, grid, chunk []uint64) []uint64 {
	off := make([]uint64, len(grid))
	for i := len(grid) - 1; i >= 0; i-- {
		off[i] = k % grid[i] * chunk[i]
		k /= grid[i]
	}
	return off
}

// chunks lists the stored chunks of a chunked dataset. Chunks never
// written are absent and read as the fill value.
func (d *Dataset) chunks(chunkBytes uint64) ([]chunkRef, error) {
	f, l := d.f, d.layout
	if l.indexAddr == undefAddr {
		return nil, nil // nothing written yet
	}
	grid, total, ok := indexGrid(d.maxShape, l.chunk)
	if !ok {
		return nil, corrupt("chunk grid of %v over %v overflows", l.chunk, d.maxShape)
	}
	switch l.index {
	case indexBTreeV1:
		return d.chunksBTreeV1()
	case indexSingle:
		size := chunkBytes
		if len(d.filters) > 0 {
			size = l.singleSize
		}
		return []chunkRef{{offset: make([]uint64, len(d.Shape)), addr: l.indexAddr, size: size, mask: l.singleMask}}, nil
	case indexImplicit:
		if total > f.size/max(chunkBytes, 1) {
			return nil, corrupt("implicit chunk index: %d chunks of %d bytes exceed the file", total, chunkBytes)
		}
		refs := make([]chunkRef, total)
		for k := range total {
			refs[k] = chunkRef{offset: gridOffset(k, grid, l.chunk), addr: l.indexAddr + k*chunkBytes, size: chunkBytes}
		}
		return refs, nil
	case indexFixedArray:
		return d.chunksFixedArray(grid, total)
	case indexExtensible:
		return d.chunksExtensibleArray()
	}
	return nil, unsupported("chunk index type %d", l.index)
}

// chunksBTreeV1 walks the version 1 B-tree of chunk nodes (type 1).
func (d *Dataset) chunksBTreeV1() ([]chunkRef, error) {
	rank := len(d.Shape)
	var refs []chunkRef
	err := d.f.walkBTreeV1(d.layout.indexAddr, 1, 8+8*(rank+1), func(key []byte, child uint64) error {
		r := chunkRef{
			addr:   child,
			size:   uint64(binary.LittleEndian.Uint32(key[0:])),
			mask:   binary.LittleEndian.Uint32(key[4:]),
			offset: make([]uint64, rank),
		}
		for i := range rank {
			r.offset[i] = binary.LittleEndian.Uint64(key[8+8*i:])
		}
		refs = append(refs, r)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("chunk B-tree: %w", err)
	}
	return refs, nil
}

// entryFormat is the format of the entries of a fixed or extensible array
// chunk index: client 0 stores a chunk address; client 1 (filtered chunks)
// also the stored size, in sizeBytes bytes, and the filter mask.
type entryFormat struct {
	filtered  bool
	size      int
	sizeBytes int
}

func (d *Dataset) entryFormat(client uint8, size int) (entryFormat, error) {
	f := d.f
	e := entryFormat{filtered: client == 1, size: size}
	minSize := f.offSize
	if e.filtered {
		minSize = f.offSize + 1 + 4
		e.sizeBytes = size - f.offSize - 4
	}
	switch {
	case client > 1:
		return e, corrupt("chunk index client %d", client)
	case e.filtered != (len(d.filters) > 0):
		return e, corrupt("chunk index client %d for a dataset with %d filters", client, len(d.filters))
	case size < minSize || size > f.offSize+8+4:
		return e, corrupt("chunk index entry of %d bytes", size)
	}
	return e, nil
}

// decode decodes one entry; addr is undefAddr for a chunk never written.
func (e entryFormat) decode(c *cursor) chunkRef {
	r := chunkRef{addr: c.addr()}
	if e.filtered {
		r.size = c.uint(e.sizeBytes)
		r.mask = c.u32()
	}
	return r
}

// readBlock reads a checksummed index block of n bytes that starts with
// the 4-byte signature sig.
func (f *File) readBlock(addr, n uint64, sig, what string) ([]byte, error) {
	b, err := f.read(addr, n, what)
	if err != nil {
		return nil, err
	}
	if string(b[:min(4, len(b))]) != sig {
		return nil, corrupt("%s at %#x: bad signature", what, addr)
	}
	if err := verifyChecksum(b, what, addr); err != nil {
		return nil, err
	}
	return b, nil
}

// chunksFixedArray reads a fixed array chunk index ("Fixed Array Header",
// "Fixed Array Data Block"): one entry per chunk of the grid, in row-major
// order, possibly split into pages of 2^pageBits entries.
func (d *Dataset) chunksFixedArray(grid []uint64, total uint64) ([]chunkRef, error) {
	f := d.f
	hdrSize := uint64(4 + 1 + 1 + 1 + 1 + f.lenSize + f.offSize + 4)
	b, err := f.readBlock(d.layout.indexAddr, hdrSize, "FAHD", "fixed array header")
	if err != nil {
		return nil, err
	}
	c := f.cursor(b)
	c.skip(4 + 1) // signature, version
	client, entrySize, pageBits := c.u8(), int(c.u8()), c.u8()
	n, dblk := c.length(), c.addr()
	format, err := d.entryFormat(client, entrySize)
	if err != nil {
		return nil, err
	}
	switch {
	case n != total:
		return nil, corrupt("fixed array of %d entries for %d chunks", n, total)
	case pageBits == 0 || pageBits > 32:
		return nil, corrupt("fixed array page bits %d", pageBits)
	case n > f.size/uint64(entrySize):
		return nil, corrupt("fixed array of %d %d-byte entries exceeds the file", n, entrySize)
	}
	if dblk == undefAddr {
		return nil, nil
	}
	// Data block: signature, version, client, header address, then either
	// the entries or (paged) a page bitmap, followed by a checksum.
	prefix := uint64(4 + 1 + 1 + f.offSize)
	pageLen := uint64(1) << pageBits
	var raw []byte // all entries; pages never written read as undefined
	if n <= pageLen {
		blk, err := f.readBlock(dblk, prefix+n*uint64(entrySize)+4, "FADB", "fixed array data block")
		if err != nil {
			return nil, err
		}
		raw = blk[prefix : len(blk)-4]
	} else {
		pages := (n + pageLen - 1) / pageLen
		head, err := f.readBlock(dblk, prefix+(pages+7)/8+4, "FADB", "fixed array data block")
		if err != nil {
			return nil, err
		}
		raw, err = f.readPages(dblk+uint64(len(head)), head[prefix:len(head)-4], n, pageLen, entrySize)
		if err != nil {
			return nil, err
		}
	}
	var refs []chunkRef
	c = f.cursor(raw)
	for k := range n {
		r := format.decode(c)
		if r.addr == undefAddr {
			continue
		}
		r.offset = gridOffset(k, grid, d.layout.chunk)
		refs = append(refs, r)
	}
	if c.truncated {
		return nil, corrupt("fixed array data block: truncated")
	}
	return refs, nil
}

// readPages reads the pages of a paged array data block that start at at:
// n entries of entrySize bytes in pages of pageLen entries, each page
// followed by a checksum. Pages whose bit in bitmap is clear were never
// written and read as all-ones (undefined addresses).
func (f *File) readPages(at uint64, bitmap []byte, n, pageLen uint64, entrySize int) ([]byte, error) {
	pages := (n + pageLen - 1) / pageLen
	if uint64(len(bitmap))*8 < pages {
		return nil, corrupt("page bitmap of %d bytes for %d pages", len(bitmap), pages)
	}
	raw := make([]byte, 0, n*uint64(entrySize))
	for p := range pages {
		entries := min(pageLen, n-p*pageLen)
		size := entries*uint64(entrySize) + 4
		// Page 0 is the most significant bit of byte 0 (H5VM_bit_get).
		if bitmap[p/8]&(0x80>>(p%8)) == 0 {
			for range entries * uint64(entrySize) {
				raw = append(raw, 0xff)
			}
		} else {
			page, err := f.read(at, size, "array page")
			if err != nil {
				return nil, err
			}
			if err := verifyChecksum(page, "array page", at); err != nil {
				return nil, err
			}
			raw = append(raw, page[:len(page)-4]...)
		}
		at += size
	}
	return raw, nil
}
