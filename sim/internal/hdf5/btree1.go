package hdf5

// walkBTreeV1 visits the leaf entries of the version 1 B-tree at addr
// ("Version 1 B-trees"): for each child pointer of a level-0 node, visit
// gets the key that precedes it and the child's address. nodeType is 0 for
// group nodes (keys are heap offsets, keySize = lenSize) and 1 for raw data
// chunk nodes (keys are chunk size, filter mask and one 8-byte offset per
// dimension including the trailing element-size one).
func (f *File) walkBTreeV1(addr uint64, nodeType uint8, keySize int, visit func(key []byte, child uint64) error) error {
	seen := map[uint64]bool{}
	var walk func(addr uint64, wantLevel int) error
	walk = func(addr uint64, wantLevel int) error {
		if seen[addr] {
			return corrupt("B-tree node %#x reached twice", addr)
		}
		seen[addr] = true
		head, err := f.readUpTo(addr, 8, "B-tree node")
		if err != nil {
			return err
		}
		c := f.cursor(head)
		if string(c.take(4)) != "TREE" {
			return corrupt("B-tree node at %#x: bad signature", addr)
		}
		typ, level, entries := c.u8(), int(c.u8()), int(c.u16())
		if c.truncated {
			return corrupt("B-tree node at %#x: truncated", addr)
		}
		if typ != nodeType {
			return corrupt("B-tree node at %#x: type %d, want %d", addr, typ, nodeType)
		}
		if wantLevel >= 0 && level != wantLevel {
			return corrupt("B-tree node at %#x: level %d, want %d", addr, level, wantLevel)
		}
		size := uint64(2*f.offSize + entries*(keySize+f.offSize) + keySize)
		b, err := f.read(addr+8, size, "B-tree node")
		if err != nil {
			return err
		}
		c = f.cursor(b)
		c.skip(2 * f.offSize) // left and right siblings
		for range entries {
			key := c.take(keySize)
			child := c.addr()
			if c.truncated {
				return corrupt("B-tree node at %#x: truncated", addr)
			}
			if level > 0 {
				err = walk(child, level-1)
			} else {
				err = visit(key, child)
			}
			if err != nil {
				return err
			}
		}
		return nil
	}
	return walk(addr, -1)
}
