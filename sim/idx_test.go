package sim

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// idxBytes encodes an IDX file of unsigned bytes with the given magic
// number (0 for the right one) and dimensions.
func idxBytes(magic uint32, dims []int, data []byte) []byte {
	if magic == 0 {
		magic = uint32(idxUnsignedByte)<<8 | uint32(len(dims))
	}
	var b bytes.Buffer
	_ = binary.Write(&b, binary.BigEndian, magic)
	for _, d := range dims {
		_ = binary.Write(&b, binary.BigEndian, uint32(d))
	}
	b.Write(data)
	return b.Bytes()
}

func gzipBytes(t testing.TB, raw []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write(raw); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func writeFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestReadIDXRoundTrip(t *testing.T) {
	data := make([]byte, 3*4*5)
	for i := range data {
		data[i] = byte(i * 7)
	}
	dims := []int{3, 4, 5}
	raw := idxBytes(0, dims, data)
	for _, tt := range []struct {
		name string
		file []byte
	}{
		{"plain", raw},
		{"gzip", gzipBytes(t, raw)},
		{"gzip named without .gz", gzipBytes(t, raw)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x-idx3-ubyte")
			writeFile(t, path, tt.file)
			a, err := readIDX(path, 3)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(a.Dims, dims) || !bytes.Equal(a.Data, data) {
				t.Errorf("readIDX = dims %v, %d bytes; want dims %v and the %d bytes written", a.Dims, len(a.Data), dims, len(data))
			}
		})
	}
}

func TestReadIDXErrors(t *testing.T) {
	data := make([]byte, 2*3*3)
	good := idxBytes(0, []int{2, 3, 3}, data)
	corruptGzip := gzipBytes(t, good)
	corruptGzip[len(corruptGzip)-6] ^= 0xff // the CRC-32 of the trailer
	tests := []struct {
		name string
		file []byte
		want string // in the error, after the path
	}{
		{"empty", nil, "magic number: truncated after 0 of 4 bytes"},
		{"truncated magic", good[:3], "magic number: truncated after 3 of 4 bytes"},
		{"truncated header", good[:9], "IDX header: truncated after 1 of 3 dimension sizes"},
		{"truncated data", good[:len(good)-5], "truncated: 13 of the 18 data bytes that 2×3×3 needs"},
		{"truncated gzip", gzipBytes(t, good)[:30], "truncated"},
		{"corrupt gzip", corruptGzip, "gzip: invalid checksum"},
		{"trailing bytes", append(slices.Clone(good), 1, 2), "2 bytes after the 18 data bytes that 2×3×3 needs"},
		{"labels file instead", idxBytes(0, []int{4}, make([]byte, 4)), "magic number 0x00000801, want 0x00000803 (IDX, unsigned bytes, 3 dimensions): 1 dimensions"},
		{"float values", idxBytes(0x00000d03, []int{1, 1, 1}, make([]byte, 4)), "values of type 0x0d are not supported"},
		{"not IDX", []byte("<html><body>Not Found</body></html>"), "not an IDX file"},
		{"huge header, tiny file", idxBytes(0, []int{1 << 15, 1 << 15, 1}, data), "truncated: 18 of the 1073741824 data bytes that 32768×32768×1 needs"},
		{"absurd size", idxBytes(0, []int{1 << 20, 1 << 20, 1}, nil), "header announces 1048576×1048576 values"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "train-images-idx3-ubyte")
			writeFile(t, path, tt.file)
			_, err := readIDX(path, 3)
			if err == nil {
				t.Fatal("readIDX succeeded, want an error")
			}
			if msg := err.Error(); !strings.HasPrefix(msg, path+": ") || !strings.Contains(msg, tt.want) {
				t.Errorf("readIDX error = %q, want %q after the path %s", msg, tt.want, path)
			}
		})
	}
}

func TestReadIDXMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nothing-here")
	if _, err := readIDX(path, 1); err == nil || !strings.Contains(err.Error(), path) || !os.IsNotExist(err) {
		t.Errorf("readIDX(missing) = %v, want a not-exist error naming %s", err, path)
	}
}

func FuzzDecodeIDX(f *testing.F) {
	f.Add(idxBytes(0, []int{2, 2, 2}, make([]byte, 8)))
	f.Add(gzipBytes(f, idxBytes(0, []int{1, 1, 1}, []byte{7})))
	f.Add([]byte{0, 0, 8, 3, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, file []byte) {
		a, err := decodeIDX(bufio.NewReader(bytes.NewReader(file)), 3, int64(len(file)))
		if err != nil {
			return
		}
		size := 1
		for _, d := range a.Dims {
			size *= d
		}
		if len(a.Dims) != 3 || len(a.Data) != size {
			t.Fatalf("decoded dims %v with %d bytes", a.Dims, len(a.Data))
		}
	})
}

func TestReadAtMost(t *testing.T) {
	// Sizes around the first buffer (1 MiB) and its growth steps.
	for _, n := range []int{0, 1, 1<<20 - 1, 1 << 20, 1<<20 + 1, 3<<20 + 5} {
		data := make([]byte, n+3)
		for i := range data {
			data[i] = byte(i)
		}
		got, err := readAtMost(bytes.NewReader(data), n, -1)
		if err != nil || !bytes.Equal(got, data[:n]) {
			t.Errorf("readAtMost(%d of %d bytes) = %d bytes, %v; want the first %d bytes", n, len(data), len(got), err, n)
		}
		got, err = readAtMost(bytes.NewReader(data[:n]), n+1, int64(n))
		if !errors.Is(err, io.ErrUnexpectedEOF) && !(n == 0 && errors.Is(err, io.EOF)) || len(got) != n {
			t.Errorf("readAtMost(%d+1 of %d bytes) = %d bytes, %v; want %[2]d bytes and an EOF error", n, n, len(got), err)
		}
	}
}
