package hdf5

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
)

// signature starts every HDF5 superblock ("Format Signature").
var signature = []byte("\x89HDF\r\n\x1a\n")

// File is an HDF5 file open for reading. It is safe for concurrent use if
// its io.ReaderAt is (Sequences are not: make one per goroutine).
type File struct {
	r io.ReaderAt
	// size is the number of readable bytes of r; nothing at or past it is
	// ever read, and no structure claiming to be longer is ever allocated.
	size uint64
	// base is the absolute position that file addresses are relative to.
	base uint64
	// offSize and lenSize are the sizes of addresses and lengths, in bytes.
	offSize, lenSize int
	// superVersion is the superblock version, 0–3.
	superVersion int
	// root is the address of the root group's object header.
	root uint64
}

// Open reads the superblock of the HDF5 file held in the first size bytes
// of r. The superblock may follow a user block (it is searched at 0, 512,
// 1024, 2048, …).
func Open(r io.ReaderAt, size int64) (*File, error) {
	if size < 0 {
		return nil, errors.New("hdf5: negative file size")
	}
	f := &File{r: r, size: uint64(size)}
	for at := uint64(0); at < f.size; at = nextSuperblockCandidate(at) {
		sig := make([]byte, len(signature))
		if at+uint64(len(sig)) > f.size {
			break
		}
		if _, err := r.ReadAt(sig, int64(at)); err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("hdf5: reading signature: %w", err)
		}
		if bytes.Equal(sig, signature) {
			if err := f.readSuperblock(at); err != nil {
				return nil, fmt.Errorf("hdf5: superblock: %w", err)
			}
			return f, nil
		}
	}
	return nil, fmt.Errorf("hdf5: no HDF5 signature found: %w", ErrCorrupt)
}

func nextSuperblockCandidate(at uint64) uint64 {
	if at == 0 {
		return 512
	}
	return at * 2
}

// readSuperblock decodes the superblock at absolute position at
// ("Superblock", versions 0–3).
func (f *File) readSuperblock(at uint64) error {
	// The longest superblock (version 1, 8-byte fields) is 8+16+4*8+40+4 bytes.
	b, err := f.readAbs(at, min(f.size-at, 128))
	if err != nil {
		return err
	}
	c := &cursor{b: b}
	c.skip(len(signature))
	f.superVersion = int(c.u8())
	switch f.superVersion {
	case 0, 1:
		c.skip(3) // free-space, root symbol table entry, shared header versions
		if v := c.u8(); v != 0 {
			return unsupported("shared header message format version %d", v)
		}
		c.offSize, c.lenSize = int(c.u8()), int(c.u8())
		c.skip(1 + 2 + 2 + 4) // reserved, group leaf/internal K, consistency flags
		if f.superVersion == 1 {
			c.skip(4) // indexed storage internal K, reserved
		}
		if err := f.setSizes(c.offSize, c.lenSize); err != nil {
			return err
		}
		c.addr() // base address (see below)
		c.addr() // free-space info
		c.addr() // end of file
		c.addr() // driver information block
		// Root group symbol table entry: link name offset, object header address, …
		c.length()
		f.root = c.addr()
	case 2, 3:
		c.offSize, c.lenSize = int(c.u8()), int(c.u8())
		if err := f.setSizes(c.offSize, c.lenSize); err != nil {
			return err
		}
		c.skip(1) // consistency flags
		c.addr()  // base address (see below)
		c.addr()  // superblock extension
		c.addr()  // end of file
		f.root = c.addr()
		c.u32()
		if !c.truncated {
			if err := verifyChecksum(b[:c.off], "superblock", at); err != nil {
				return err
			}
		}
	default:
		return unsupported("superblock version %d", f.superVersion)
	}
	if c.truncated {
		return corrupt("superblock version %d at %#x: truncated", f.superVersion, at)
	}
	if f.root == undefAddr {
		return corrupt("superblock: undefined root group address")
	}
	// Like libhdf5, take addresses as relative to where the superblock is,
	// whatever its base address field says.
	f.base = at
	return nil
}

func (f *File) setSizes(offSize, lenSize int) error {
	for _, s := range []int{offSize, lenSize} {
		if s != 2 && s != 4 && s != 8 {
			return unsupported("size of offsets/lengths %d bytes", s)
		}
	}
	f.offSize, f.lenSize = offSize, lenSize
	return nil
}

// readAbs reads n bytes at absolute position at, after checking that they
// lie inside the file.
func (f *File) readAbs(at, n uint64) ([]byte, error) {
	if at > f.size || n > f.size-at {
		return nil, corrupt("%d bytes at %#x run past the end of the file (%d bytes)", n, at, f.size)
	}
	b := make([]byte, n)
	got, err := f.r.ReadAt(b, int64(at))
	if uint64(got) < n {
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("reading %d bytes at %#x: %w", n, at, err)
	}
	return b, nil
}

// read reads n bytes at file address addr (relative to the base address).
// what names the structure for errors.
func (f *File) read(addr, n uint64, what string) ([]byte, error) {
	if addr == undefAddr {
		return nil, corrupt("%s: undefined address", what)
	}
	if addr > f.size || f.base > f.size-addr {
		return nil, corrupt("%s: address %#x outside the file (%d bytes)", what, addr, f.size)
	}
	b, err := f.readAbs(f.base+addr, n)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return b, nil
}

// readInto fills dst with the bytes at file address addr.
func (f *File) readInto(dst []byte, addr uint64, what string) error {
	n := uint64(len(dst))
	if addr == undefAddr || addr > f.size || f.base > f.size-addr || n > f.size-f.base-addr {
		return corrupt("%s: %d bytes at %#x outside the file (%d bytes)", what, n, addr, f.size)
	}
	got, err := f.r.ReadAt(dst, int64(f.base+addr))
	if got < len(dst) {
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("%s: reading %d bytes at %#x: %w", what, n, addr, err)
	}
	return nil
}

// readUpTo reads at most n bytes at addr: fewer if the file ends sooner.
// It serves structures whose length is only known after decoding a prefix.
func (f *File) readUpTo(addr, n uint64, what string) ([]byte, error) {
	if addr != undefAddr && addr <= f.size && f.base <= f.size-addr {
		n = min(n, f.size-f.base-addr)
	}
	return f.read(addr, n, what)
}

// splitPath splits an HDF5 path ("/spikes/times", "labels") into its
// non-empty components.
func splitPath(path string) []string {
	var parts []string
	for _, p := range strings.Split(path, "/") {
		if p != "" && p != "." {
			parts = append(parts, p)
		}
	}
	return parts
}
