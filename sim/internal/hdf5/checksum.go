package hdf5

import "encoding/binary"

// lookup3 is Bob Jenkins' hashlittle (lookup3.c, 2006) with initial value
// 0: the checksum of every version 2+ metadata structure (specification
// section "Checksums").
func lookup3(k []byte) uint32 {
	rot := func(x uint32, k uint) uint32 { return x<<k | x>>(32-k) }
	a := 0xdeadbeef + uint32(len(k))
	b, c := a, a
	for len(k) > 12 {
		a += binary.LittleEndian.Uint32(k[0:])
		b += binary.LittleEndian.Uint32(k[4:])
		c += binary.LittleEndian.Uint32(k[8:])
		a -= c
		a ^= rot(c, 4)
		c += b
		b -= a
		b ^= rot(a, 6)
		a += c
		c -= b
		c ^= rot(b, 8)
		b += a
		a -= c
		a ^= rot(c, 16)
		c += b
		b -= a
		b ^= rot(a, 19)
		a += c
		c -= b
		c ^= rot(b, 4)
		b += a
		k = k[12:]
	}
	if len(k) == 0 {
		return c
	}
	var tail [12]byte
	copy(tail[:], k)
	a += binary.LittleEndian.Uint32(tail[0:])
	b += binary.LittleEndian.Uint32(tail[4:])
	c += binary.LittleEndian.Uint32(tail[8:])
	c ^= b
	c -= rot(b, 14)
	a ^= c
	a -= rot(c, 11)
	b ^= a
	b -= rot(a, 25)
	c ^= b
	c -= rot(b, 16)
	a ^= c
	a -= rot(c, 4)
	b ^= a
	b -= rot(a, 14)
	c ^= b
	c -= rot(b, 24)
	return c
}

// verifyChecksum checks that the last 4 bytes of block are the lookup3
// checksum of the bytes before them.
func verifyChecksum(block []byte, what string, addr uint64) error {
	if len(block) < 4 {
		return corrupt("%s at %#x: too short for a checksum", what, addr)
	}
	n := len(block) - 4
	if got, want := lookup3(block[:n]), binary.LittleEndian.Uint32(block[n:]); got != want {
		return corrupt("%s at %#x: checksum %#08x, stored %#08x", what, addr, got, want)
	}
	return nil
}
