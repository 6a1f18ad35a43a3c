package hdf5

import "math/bits"

// chunksExtensibleArray reads an extensible array chunk index ("Extensible
// Array Header", "… Index Block", "… Secondary Block", "… Data Block"),
// which libhdf5 uses for datasets with one unlimited dimension when written
// with libver="latest". Entry k is chunk k of the grid in row-major order
// after moving the unlimited dimension to the front.
func (d *Dataset) chunksExtensibleArray() ([]chunkRef, error) {
	f, l := d.f, d.layout
	unlim := -1
	for i, m := range d.maxShape {
		if m == unlimitedDim {
			if unlim >= 0 {
				return nil, corrupt("extensible array index with two unlimited dimensions")
			}
			unlim = i
		}
	}
	if unlim < 0 {
		return nil, corrupt("extensible array index without an unlimited dimension")
	}
	// Swizzled grid: the unlimited dimension first, the others in order.
	order := []int{unlim}
	for i := range d.Shape {
		if i != unlim {
			order = append(order, i)
		}
	}
	sgrid := make([]uint64, len(order))
	need := uint64(1) // entries that can hold chunks inside the current extent
	for j, i := range order {
		dim := d.maxShape[i]
		if i == unlim {
			dim = d.Shape[i]
		}
		sgrid[j] = dim/l.chunk[i] + min(dim%l.chunk[i], 1)
		if sgrid[j] != 0 && need > f.size/sgrid[j] {
			return nil, corrupt("extensible array grid %v exceeds the file", sgrid)
		}
		need *= sgrid[j]
	}

	hdrSize := uint64(4+1+1+1+1+1+1+1+1) + 6*uint64(f.lenSize) + uint64(f.offSize) + 4
	b, err := f.readBlock(l.indexAddr, hdrSize, "EAHD", "extensible array header")
	if err != nil {
		return nil, err
	}
	c := f.cursor(b)
	c.skip(4 + 1)
	client, entrySize := c.u8(), int(c.u8())
	maxBits, iblockElems, dblkMinElems := int(c.u8()), uint64(c.u8()), uint64(c.u8())
	sblkMinPtrs, pageBits := uint64(c.u8()), int(c.u8())
	c.skip(4 * f.lenSize) // secondary/data block counts and sizes
	maxIndex := c.length()
	c.length() // number of elements realised
	iblockAddr := c.addr()
	format, err := d.entryFormat(client, entrySize)
	if err != nil {
		return nil, err
	}
	isPow2 := func(v uint64) bool { return v != 0 && v&(v-1) == 0 }
	if maxBits == 0 || maxBits > 64 || !isPow2(dblkMinElems) || !isPow2(sblkMinPtrs) ||
		pageBits > 32 || bits.Len64(dblkMinElems)-1 > maxBits {
		return nil, corrupt("extensible array parameters (max bits %d, data block min %d, super block min %d, page bits %d)",
			maxBits, dblkMinElems, sblkMinPtrs, pageBits)
	}
	if iblockAddr == undefAddr {
		return nil, nil
	}
	n := min(maxIndex, need)

	// Super block u holds 2^⌊u/2⌋ data blocks of 2^⌊(u+1)/2⌋·dblkMinElems
	// entries; the first iblockSblks super blocks have their data blocks
	// pointed to straight from the index block.
	nsblks := 1 + maxBits - (bits.Len64(dblkMinElems) - 1)
	iblockSblks := 2 * (bits.Len64(sblkMinPtrs) - 1)
	nDblkAddrs := 2 * (int(sblkMinPtrs) - 1)
	nSblkAddrs := nsblks - iblockSblks
	if nSblkAddrs < 0 {
		return nil, corrupt("extensible array with %d super blocks", nsblks)
	}
	offBytes := (maxBits + 7) / 8 // "block offset" field width
	ibSize := uint64(4+1+1+f.offSize) + iblockElems*uint64(entrySize) +
		uint64((nDblkAddrs+nSblkAddrs)*f.offSize) + 4
	ib, err := f.readBlock(iblockAddr, ibSize, "EAIB", "extensible array index block")
	if err != nil {
		return nil, err
	}
	c = f.cursor(ib)
	c.skip(4 + 1 + 1 + f.offSize)
	var entries []chunkRef // entry k, for k < n; undefined entries kept
	for range iblockElems {
		entries = append(entries, format.decode(c))
	}
	dblkAddrs := make([]uint64, nDblkAddrs)
	for i := range dblkAddrs {
		dblkAddrs[i] = c.addr()
	}
	sblkAddrs := make([]uint64, nSblkAddrs)
	for i := range sblkAddrs {
		sblkAddrs[i] = c.addr()
	}
	pageLen := uint64(1) << pageBits
	undefined := func(count uint64) {
		for range count {
			entries = append(entries, chunkRef{addr: undefAddr})
		}
	}
	dblkPrefix := uint64(4+1+1+f.offSize+offBytes) + 4
	nextDblk := 0 // next data block pointer of the index block
	for u := 0; u < nsblks && uint64(len(entries)) < n; u++ {
		ndblks := uint64(1) << (u / 2)
		dblkElems := dblkMinElems << ((u + 1) / 2)
		left := n - uint64(len(entries))
		// Only the data blocks holding entries below n are needed.
		used := min(ndblks, left/dblkElems+min(left%dblkElems, 1))
		paged := dblkElems > pageLen
		pageBytes := uint64(0) // page bitmap bytes per data block
		if paged {
			pageBytes = (dblkElems/pageLen + 7) / 8
		}
		addrs := make([]uint64, used)
		var bitmaps []byte
		if u < iblockSblks {
			if paged {
				return nil, unsupported("paged extensible array data block in the index block")
			}
			if uint64(nextDblk)+ndblks > uint64(len(dblkAddrs)) {
				return nil, corrupt("extensible array index block: too few data block addresses")
			}
			copy(addrs, dblkAddrs[nextDblk:])
			nextDblk += int(ndblks)
		} else {
			sa := sblkAddrs[u-iblockSblks]
			if sa == undefAddr {
				undefined(min(left, used*dblkElems))
				continue
			}
			if ndblks > f.size/(pageBytes+uint64(f.offSize)) {
				return nil, corrupt("extensible array super block of %d data blocks exceeds the file", ndblks)
			}
			size := uint64(4+1+1+f.offSize+offBytes) + ndblks*(pageBytes+uint64(f.offSize)) + 4
			sb, err := f.readBlock(sa, size, "EASB", "extensible array super block")
			if err != nil {
				return nil, err
			}
			sc := f.cursor(sb)
			sc.skip(4 + 1 + 1 + f.offSize + offBytes)
			bitmaps = sc.take(int(ndblks * pageBytes))
			for i := range addrs {
				addrs[i] = sc.addr()
			}
			if sc.truncated {
				return nil, corrupt("extensible array super block at %#x: truncated", sa)
			}
		}
		for i, da := range addrs {
			if da == undefAddr {
				undefined(min(dblkElems, n-uint64(len(entries))))
				continue
			}
			if dblkElems > f.size/uint64(entrySize) {
				return nil, corrupt("extensible array data block of %d entries exceeds the file", dblkElems)
			}
			var raw []byte
			if !paged {
				blk, err := f.readBlock(da, dblkPrefix+dblkElems*uint64(entrySize), "EADB", "extensible array data block")
				if err != nil {
					return nil, err
				}
				raw = blk[dblkPrefix-4 : len(blk)-4]
			} else {
				if _, err := f.readBlock(da, dblkPrefix, "EADB", "extensible array data block"); err != nil {
					return nil, err
				}
				bm := bitmaps[uint64(i)*pageBytes : uint64(i+1)*pageBytes]
				if raw, err = f.readPages(da+dblkPrefix, bm, dblkElems, pageLen, entrySize); err != nil {
					return nil, err
				}
			}
			rc := f.cursor(raw)
			for range min(dblkElems, n-uint64(len(entries))) {
				entries = append(entries, format.decode(rc))
			}
		}
	}
	var refs []chunkRef
	for k, r := range entries[:min(uint64(len(entries)), n)] {
		if r.addr == undefAddr {
			continue
		}
		soff := gridOffset(uint64(k), sgrid, permute(l.chunk, order))
		r.offset = make([]uint64, len(order))
		for j, i := range order {
			r.offset[i] = soff[j]
		}
		refs = append(refs, r)
	}
	return refs, nil
}

// permute returns v reordered: out[j] = v[order[j]].
func permute(v []uint64, order []int) []uint64 {
	out := make([]uint64, len(order))
	for j, i := range order {
		out[j] = v[i]
	}
	return out
}
