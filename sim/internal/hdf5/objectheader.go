package hdf5

import "fmt"

// Header message types ("Header Message Types") this reader uses.
const (
	msgNil          = 0x00
	msgDataspace    = 0x01
	msgLinkInfo     = 0x02
	msgDatatype     = 0x03
	msgFillValueOld = 0x04
	msgFillValue    = 0x05
	msgLink         = 0x06
	msgExternal     = 0x07
	msgLayout       = 0x08
	msgFilters      = 0x0b
	msgContinuation = 0x10
	msgSymbolTable  = 0x11
)

// Header message flags.
const (
	msgFlagShared       = 0x02
	msgFlagFailUnknown  = 0x80 // fail to open if the type is not understood
	maxObjectHeaderMsgs = 1 << 16
)

// message is one header message of an object header.
type message struct {
	typ   uint16
	flags uint8
	data  []byte
}

// objectHeader holds the messages of one object (group or dataset).
type objectHeader struct {
	addr uint64
	msgs []message
}

// find returns the first message of type typ, or nil.
func (h *objectHeader) find(typ uint16) *message {
	for i := range h.msgs {
		if h.msgs[i].typ == typ {
			return &h.msgs[i]
		}
	}
	return nil
}

// objectHeader reads the object header at addr, following continuation
// blocks ("Data Object Headers", versions 1 and 2).
func (f *File) objectHeader(addr uint64) (*objectHeader, error) {
	prefix, err := f.readUpTo(addr, 16, "object header")
	if err != nil {
		return nil, err
	}
	h := &objectHeader{addr: addr}
	if string(prefix[:min(4, len(prefix))]) == "OHDR" {
		err = f.readHeaderV2(h)
	} else {
		err = f.readHeaderV1(h, prefix)
	}
	if err != nil {
		return nil, fmt.Errorf("object header at %#x: %w", addr, err)
	}
	return h, nil
}

// block is a run of header messages still to decode.
type block struct{ addr, size uint64 }

// readHeaderV1 decodes a version 1 object header: a 16-byte prefix, then
// 8-byte-aligned messages in the first block and in continuation blocks.
func (f *File) readHeaderV1(h *objectHeader, prefix []byte) error {
	c := f.cursor(prefix)
	if v := c.u8(); v != 1 {
		return corrupt("version %d (want 1, or an OHDR signature)", v)
	}
	c.skip(1)
	c.u16() // number of messages: not needed, blocks are parsed to their end
	c.u32() // reference count
	size := uint64(c.u32())
	if c.truncated {
		return corrupt("truncated prefix")
	}
	return f.readBlocks(h, block{h.addr + 16, size}, func(_ block, b []byte, add addMessage) error {
		c := f.cursor(b)
		for c.remaining() >= 8 {
			typ, size, flags := c.u16(), int(c.u16()), c.u8()
			c.skip(3)
			data := c.take(size)
			if c.truncated {
				return corrupt("message type %#x of %d bytes runs past its block", typ, size)
			}
			if err := add(typ, flags, data); err != nil {
				return err
			}
		}
		return nil
	})
}

// readHeaderV2 decodes a version 2 object header ("OHDR" and "OCHK" blocks,
// each ending in a checksum).
func (f *File) readHeaderV2(h *objectHeader) error {
	pre, err := f.readUpTo(h.addr, 4+2+16+4+8, "object header")
	if err != nil {
		return err
	}
	c := f.cursor(pre)
	c.skip(4)
	if v := c.u8(); v != 2 {
		return corrupt("OHDR version %d", v)
	}
	flags := c.u8()
	if flags&0x20 != 0 {
		c.skip(16) // access, modification, change, birth times
	}
	if flags&0x10 != 0 {
		c.skip(4) // attribute phase change values
	}
	chunk0 := c.uint(1 << (flags & 3))
	if c.truncated {
		return corrupt("truncated OHDR prefix")
	}
	trackOrder := flags&0x04 != 0
	// Chunk 0 is the prefix, the messages and a 4-byte checksum.
	first := block{h.addr, uint64(c.off) + chunk0 + 4}
	if chunk0 > f.size {
		return corrupt("chunk 0 of %d bytes", chunk0)
	}
	return f.readBlocks(h, first, func(blk block, b []byte, add addMessage) error {
		if err := verifyChecksum(b, "object header block", blk.addr); err != nil {
			return err
		}
		start := 4 // "OCHK"
		if blk == first {
			start = c.off
		} else if string(b[:min(4, len(b))]) != "OCHK" {
			return corrupt("continuation block at %#x: no OCHK signature", blk.addr)
		}
		m := f.cursor(b[start : len(b)-4])
		hdr := 4
		if trackOrder {
			hdr = 6
		}
		// What is left after the last message, if shorter than a message
		// header, is a gap.
		for m.remaining() >= hdr {
			typ, size, mflags := uint16(m.u8()), int(m.u16()), m.u8()
			if trackOrder {
				m.u16()
			}
			data := m.take(size)
			if m.truncated {
				return corrupt("message type %#x of %d bytes runs past its block", typ, size)
			}
			if err := add(typ, mflags, data); err != nil {
				return err
			}
		}
		return nil
	})
}

// addMessage records one header message: its type, flags and body.
type addMessage func(typ uint16, flags uint8, data []byte) error

// readBlocks reads the header block first and every continuation block its
// messages point to, each once, in the order found. split cuts one block's
// bytes into messages and passes each to add, which records it in h and
// queues the block a continuation message points to.
func (f *File) readBlocks(h *objectHeader, first block, split func(blk block, b []byte, add addMessage) error) error {
	todo := []block{first}
	add := func(typ uint16, flags uint8, data []byte) error {
		more, err := h.add(f, typ, flags, data)
		todo = append(todo, more...)
		return err
	}
	seen := map[uint64]bool{}
	for len(todo) > 0 {
		blk := todo[0]
		todo = todo[1:]
		if seen[blk.addr] {
			return corrupt("continuation block %#x visited twice", blk.addr)
		}
		seen[blk.addr] = true
		b, err := f.read(blk.addr, blk.size, "object header block")
		if err != nil {
			return err
		}
		if err := split(blk, b, add); err != nil {
			return err
		}
	}
	return nil
}

// add records one message; a continuation message yields the block it
// points to.
func (h *objectHeader) add(f *File, typ uint16, flags uint8, data []byte) ([]block, error) {
	switch typ {
	case msgNil:
		return nil, nil
	case msgContinuation:
		c := f.cursor(data)
		next := block{c.addr(), c.length()}
		if c.truncated {
			return nil, corrupt("truncated continuation message")
		}
		return []block{next}, nil
	}
	if len(h.msgs) >= maxObjectHeaderMsgs {
		return nil, corrupt("more than %d messages", maxObjectHeaderMsgs)
	}
	h.msgs = append(h.msgs, message{typ: typ, flags: flags, data: data})
	return nil, nil
}

// need returns the message of type typ, decoded by the caller, refusing
// shared messages (stored elsewhere in the file, e.g. committed datatypes).
func (h *objectHeader) need(typ uint16, what string) (*message, error) {
	m := h.find(typ)
	if m == nil {
		return nil, corrupt("no %s message", what)
	}
	if m.flags&msgFlagShared != 0 {
		return nil, unsupported("shared %s message (committed datatype or shared message table)", what)
	}
	return m, nil
}
