package hdf5

import (
	"bytes"
	"fmt"
)

// notFoundError reports a missing link; lookups wrap it with the path.
type notFoundError struct{ name string }

func (e *notFoundError) Error() string { return fmt.Sprintf("no link named %q", e.name) }

// lookup returns the object header address that the link called name in
// the group whose header is g points to.
func (f *File) lookup(g *objectHeader, name string) (uint64, error) {
	if m := g.find(msgSymbolTable); m != nil {
		c := f.cursor(m.data)
		btree, heap := c.addr(), c.addr()
		if c.truncated {
			return 0, corrupt("truncated symbol table message")
		}
		return f.lookupSymbolTable(btree, heap, name)
	}
	if m := g.find(msgLinkInfo); m != nil {
		c := f.cursor(m.data)
		c.u8() // version
		if flags := c.u8(); flags&1 != 0 {
			c.u64() // maximum creation index
		}
		heap := c.addr()
		if c.truncated {
			return 0, corrupt("truncated link info message")
		}
		if heap != undefAddr {
			return 0, unsupported("dense link storage (fractal heap) in group at %#x", g.addr)
		}
	}
	// Compact storage: one link message per link (or no links at all).
	for _, m := range g.msgs {
		if m.typ != msgLink {
			continue
		}
		l, err := f.decodeLink(m.data)
		if err != nil {
			return 0, err
		}
		if l.name != name {
			continue
		}
		if l.typ != 0 {
			return 0, unsupported("link %q of type %d (soft or external link)", name, l.typ)
		}
		return l.addr, nil
	}
	if g.find(msgLinkInfo) == nil && g.find(msgLink) == nil {
		return 0, fmt.Errorf("object at %#x is not a group", g.addr)
	}
	return 0, &notFoundError{name}
}

// link is a decoded link message.
type link struct {
	name string
	typ  uint8 // 0 hard, 1 soft, 64 external
	addr uint64
}

// decodeLink decodes a link message ("Link Message", version 1).
func (f *File) decodeLink(data []byte) (link, error) {
	c := f.cursor(data)
	if v := c.u8(); v != 1 {
		return link{}, corrupt("link message version %d", v)
	}
	flags := c.u8()
	var l link
	if flags&0x08 != 0 {
		l.typ = c.u8()
	}
	if flags&0x04 != 0 {
		c.u64() // creation order
	}
	if flags&0x10 != 0 {
		c.u8() // character set
	}
	n := c.uint(1 << (flags & 3))
	if n > uint64(c.remaining()) {
		return link{}, corrupt("link name of %d bytes in a %d-byte message", n, len(data))
	}
	l.name = string(c.take(int(n)))
	if l.typ == 0 {
		l.addr = c.addr()
	}
	if c.truncated {
		return link{}, corrupt("truncated link message")
	}
	return l, nil
}

// lookupSymbolTable finds name in an old-style group: a version 1 B-tree of
// type 0 whose leaves are symbol table nodes, names kept in a local heap
// ("Symbol Table Message", "Version 1 B-trees", "Symbol Table Nodes",
// "Local Heaps").
func (f *File) lookupSymbolTable(btree, heapAddr uint64, name string) (uint64, error) {
	heap, err := f.localHeap(heapAddr)
	if err != nil {
		return 0, err
	}
	var found uint64 = undefAddr
	err = f.walkBTreeV1(btree, 0, f.lenSize, func(_ []byte, child uint64) error {
		if found != undefAddr {
			return nil
		}
		addr, err := f.searchSymbolNode(child, heap, name)
		if err != nil {
			return err
		}
		found = addr
		return nil
	})
	if err != nil {
		return 0, err
	}
	if found == undefAddr {
		return 0, &notFoundError{name}
	}
	return found, nil
}

// localHeap returns the data segment of the local heap at addr.
func (f *File) localHeap(addr uint64) ([]byte, error) {
	b, err := f.readUpTo(addr, 8+2*8+8, "local heap")
	if err != nil {
		return nil, err
	}
	c := f.cursor(b)
	if string(c.take(4)) != "HEAP" {
		return nil, corrupt("local heap at %#x: bad signature", addr)
	}
	c.skip(4) // version, reserved
	size := c.length()
	c.length() // free list head
	data := c.addr()
	if c.truncated {
		return nil, corrupt("local heap at %#x: truncated", addr)
	}
	return f.read(data, size, "local heap data")
}

// searchSymbolNode looks for name in the symbol table node ("SNOD") at
// addr and returns the object header address, or undefAddr.
func (f *File) searchSymbolNode(addr uint64, heap []byte, name string) (uint64, error) {
	entry := f.lenSize + f.offSize + 4 + 4 + 16
	b, err := f.readUpTo(addr, 8, "symbol table node")
	if err != nil {
		return 0, err
	}
	c := f.cursor(b)
	if string(c.take(4)) != "SNOD" {
		return 0, corrupt("symbol table node at %#x: bad signature", addr)
	}
	c.skip(2)
	n := int(c.u16())
	if c.truncated {
		return 0, corrupt("symbol table node at %#x: truncated", addr)
	}
	b, err = f.read(addr+8, uint64(n*entry), "symbol table node")
	if err != nil {
		return 0, err
	}
	c = f.cursor(b)
	for range n {
		nameOff := c.length()
		obj := c.addr()
		c.skip(4 + 4 + 16) // cache type, reserved, scratch pad
		if nameOff >= uint64(len(heap)) {
			return 0, corrupt("symbol table node at %#x: name offset %d outside a %d-byte heap", addr, nameOff, len(heap))
		}
		s := heap[nameOff:]
		if i := bytes.IndexByte(s, 0); i >= 0 {
			s = s[:i]
		}
		if string(s) == name {
			return obj, nil
		}
	}
	return undefAddr, nil
}
