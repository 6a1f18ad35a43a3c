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

// chunksFixedArray reads a fixed array chunk index ("Fixed Array Header",
// "Fixed Array Data Block"): one entry per chunk of the grid, in row-major
// order, possibly split into pages of 2^pageBits entries.
func (d *Dataset) chunksFixedArray(grid []uint64, total uint64) ([]chunkRef, error) {
	f := d.f
	hdrSize := uint64(4 + 1 + 1 + 1 + 1 + f.lenSize + f.offSize + 4)
	b, err := f.read(d.layout.indexAddr, hdrSize, "fixed array header")
	if err != nil {
		return nil, err
	}
	if err := verifyChecksum(b, "fixed array header", d.layout.indexAddr); err != nil {
		return nil, err
	}
	c := f.cursor(b)
	if string(c.take(4)) != "FAHD" {
		return nil, corrupt("fixed array header: bad signature")
	}
	c.u8() // version
	client, entrySize, pageBits := c.u8(), int(c.u8()), c.u8()
	n, dblk := c.length(), c.addr()
	filtered := client == 1
	minEntry := f.offSize
	if filtered {
		minEntry = f.offSize + 1 + 4
	}
	switch {
	case client > 1:
		return nil, corrupt("fixed array client %d", client)
	case filtered != (len(d.filters) > 0):
		return nil, corrupt("fixed array client %d for a dataset with %d filters", client, len(d.filters))
	case entrySize < minEntry || entrySize > f.offSize+8+4:
		return nil, corrupt("fixed array entry of %d bytes", entrySize)
	case n != total:
		return nil, corrupt("fixed array of %d entries for %d chunks", n, total)
	case pageBits == 0 || pageBits > 32:
		return nil, corrupt("fixed array page bits %d", pageBits)
	}
	if n > f.size/uint64(entrySize) {
		return nil, corrupt("fixed array of %d %d-byte entries exceeds the file", n, entrySize)
	}
	if dblk == undefAddr {
		return nil, nil
	}
	// Data block: signature, version, client, header address, then either
	// the entries or (paged) a page bitmap, followed by a checksum.
	prefix := uint64(4 + 1 + 1 + f.offSize)
	pageLen := uint64(1) << pageBits
	paged := n > pageLen
	var raw []byte // all entries, uninitialised pages as all-ones (undefined)
	if !paged {
		blk, err := f.read(dblk, prefix+n*uint64(entrySize)+4, "fixed array data block")
		if err != nil {
			return nil, err
		}
		if err := verifyChecksum(blk, "fixed array data block", dblk); err != nil {
			return nil, err
		}
		raw = blk[prefix : len(blk)-4]
	} else {
		pages := (n + pageLen - 1) / pageLen
		bitmapLen := (pages + 7) / 8
		head, err := f.read(dblk, prefix+bitmapLen+4, "fixed array data block")
		if err != nil {
			return nil, err
		}
		if err := verifyChecksum(head, "fixed array data block", dblk); err != nil {
			return nil, err
		}
		bitmap := head[prefix : prefix+bitmapLen]
		raw = make([]byte, 0, n*uint64(entrySize))
		at := dblk + uint64(len(head))
		for p := range pages {
			entries := min(pageLen, n-p*pageLen)
			size := entries*uint64(entrySize) + 4
			// Bit 7 of the first byte is page 0 (H5VM bit order, MSB first).
			if bitmap[p/8]&(0x80>>(p%8)) == 0 {
				for range entries * uint64(entrySize) {
					raw = append(raw, 0xff)
				}
			} else {
				page, err := f.read(at, size, "fixed array page")
				if err != nil {
					return nil, err
				}
				if err := verifyChecksum(page, "fixed array page", at); err != nil {
					return nil, err
				}
				raw = append(raw, page[:len(page)-4]...)
			}
			at += size
		}
	}
	var refs []chunkRef
	c = f.cursor(raw)
	chunkBytes := 0
	if filtered {
		chunkBytes = entrySize - f.offSize - 4
	}
	for k := range n {
		r := chunkRef{addr: c.addr()}
		if filtered {
			r.size = c.uint(chunkBytes)
			r.mask = c.u32()
		}
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
