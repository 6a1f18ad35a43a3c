package sim

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// The IDX format (LeCun et al., the MNIST distribution): a 4-byte magic
// number 0x00 0x00 <type> <number of dimensions>, one big-endian uint32 size
// per dimension, then the values in row-major order. MNIST and
// Fashion-MNIST use type 0x08 (unsigned byte): 3 dimensions for images
// (count, rows, columns), 1 for labels. Files may be gzip-compressed; the
// reader recognises gzip by its first two bytes, whatever the file name.

// idxUnsignedByte is the IDX type code of unsigned bytes.
const idxUnsignedByte = 0x08

// idxArray is the content of an IDX file of unsigned bytes.
type idxArray struct {
	// Dims holds the size of each dimension, outermost first.
	Dims []int
	// Data holds the values in row-major order: len(Data) = Π Dims.
	Data []byte
}

// maxIDXBytes bounds the data an IDX header may announce (MNIST's training
// images are 47 MB), so that a corrupt header cannot make us allocate
// without limit.
const maxIDXBytes = 1 << 31

// readIDX reads the IDX file at path, gzip-compressed or plain, whose values
// must be unsigned bytes in dims dimensions. Its errors name the path and
// what was expected.
func readIDX(path string, dims int) (*idxArray, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err // *PathError names the path
	}
	defer f.Close()
	fileSize := int64(-1)
	if info, err := f.Stat(); err == nil {
		fileSize = info.Size()
	}
	a, err := decodeIDX(bufio.NewReaderSize(f, 1<<16), dims, fileSize)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return a, nil
}

// decodeIDX decodes an IDX stream, gzip-compressed or plain, of fileSize
// bytes (−1 if unknown).
func decodeIDX(br *bufio.Reader, dims int, fileSize int64) (*idxArray, error) {
	var r io.Reader = br
	// At most this many data bytes can be in the file (deflate expands at
	// most 1032-fold), so that much memory is safe to take up front.
	possible := fileSize
	if head, _ := br.Peek(2); bytes.Equal(head, []byte{0x1f, 0x8b}) {
		possible = 1032 * fileSize
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		defer zr.Close()
		r = zr
	}
	wantMagic := uint32(idxUnsignedByte)<<8 | uint32(dims)

	var err error
	header := make([]byte, 4+4*dims)
	if n, err := io.ReadFull(r, header[:4]); err != nil {
		return nil, fmt.Errorf("IDX magic number: %w after %d of 4 bytes", truncated(err), n)
	}
	if magic := binary.BigEndian.Uint32(header); magic != wantMagic {
		return nil, fmt.Errorf("magic number 0x%08x, want 0x%08x (IDX, unsigned bytes, %d dimensions)%s", magic, wantMagic, dims, idxMagicHint(magic))
	}
	if n, err := io.ReadFull(r, header[4:]); err != nil {
		return nil, fmt.Errorf("IDX header: %w after %d of %d dimension sizes", truncated(err), n/4, dims)
	}
	a := &idxArray{Dims: make([]int, dims)}
	size := 1
	for i := range dims {
		a.Dims[i] = int(binary.BigEndian.Uint32(header[4+4*i:]))
		size *= a.Dims[i]
		if size > maxIDXBytes {
			return nil, fmt.Errorf("header announces %s values, more than %d", dimsString(a.Dims[:i+1]), maxIDXBytes)
		}
	}
	if a.Data, err = readAtMost(r, size, possible); err != nil {
		return nil, fmt.Errorf("%w: %d of the %d data bytes that %s needs", truncated(err), len(a.Data), size, dimsString(a.Dims))
	}
	// Read to the end: this also makes gzip check its CRC and length.
	if extra, err := io.Copy(io.Discard, r); err != nil {
		return nil, fmt.Errorf("after the data: %w", err)
	} else if extra > 0 {
		return nil, fmt.Errorf("%d bytes after the %d data bytes that %s needs", extra, size, dimsString(a.Dims))
	}
	return a, nil
}

// readAtMost reads n bytes from r. It takes at most max(possible, 1 MiB)
// bytes of memory up front and grows as further bytes arrive, so that a
// header announcing more than the file can hold costs memory only for what
// the file holds. It returns what it read, and io.ErrUnexpectedEOF (or
// io.EOF if nothing) if r ends early.
func readAtMost(r io.Reader, n int, possible int64) ([]byte, error) {
	buf := make([]byte, 0, int(min(int64(n), max(possible, 1<<20))))
	for len(buf) < n {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, min(n, 2*cap(buf))-len(buf))
		}
		m, err := io.ReadFull(r, buf[len(buf):min(cap(buf), n)])
		buf = buf[:len(buf)+m]
		if err != nil {
			if errors.Is(err, io.EOF) && len(buf) > 0 {
				err = io.ErrUnexpectedEOF
			}
			return buf, err
		}
	}
	return buf, nil
}

// truncated turns the end-of-file errors of io.ReadFull into a message
// that says what happened.
func truncated(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("truncated")
	}
	return err
}

// idxMagicHint explains a wrong magic number where it can.
func idxMagicHint(magic uint32) string {
	switch {
	case magic>>16 != 0:
		return ": not an IDX file"
	case magic>>8&0xff != idxUnsignedByte:
		return fmt.Sprintf(": values of type 0x%02x are not supported", magic>>8&0xff)
	default:
		return fmt.Sprintf(": %d dimensions", magic&0xff)
	}
}

// dimsString formats dimension sizes as 60000×28×28.
func dimsString(dims []int) string {
	s := make([]string, len(dims))
	for i, d := range dims {
		s[i] = fmt.Sprint(d)
	}
	return strings.Join(s, "×")
}
