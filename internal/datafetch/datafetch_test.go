package datafetch

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// fixture is a file's content and its SHA-256.
type fixture struct {
	data []byte
	sum  string
}

func newFixture(n int) fixture {
	data := make([]byte, n)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	s := sha256.Sum256(data)
	return fixture{data, hex.EncodeToString(s[:])}
}

// server is an httptest server of one file, recording each request's
// Range header.
type server struct {
	*httptest.Server
	mu     sync.Mutex
	ranges []string
}

// newServer serves fx at /f with handle, which may write all of it, some of
// it, or nothing; a nil handle serves it with http.ServeContent (Range
// support).
func newServer(t *testing.T, fx fixture, handle func(w http.ResponseWriter, r *http.Request, call int)) *server {
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.ranges = append(s.ranges, r.Header.Get("Range"))
		call := len(s.ranges)
		s.mu.Unlock()
		if r.URL.Path != "/f" {
			http.NotFound(w, r)
			return
		}
		if handle == nil {
			http.ServeContent(w, r, "f", time.Time{}, bytes.NewReader(fx.data))
			return
		}
		handle(w, r, call)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.ranges...)
}

// cutAfter writes the headers of the whole of data and n of its bytes,
// then drops the connection.
func cutAfter(w http.ResponseWriter, data []byte, n int) {
	w.Header().Set("Content-Length", fmt.Sprint(len(data)))
	w.WriteHeader(http.StatusOK)
	w.Write(data[:n])
	w.(http.Flusher).Flush()
	panic(http.ErrAbortHandler)
}

// requireFile fails unless path holds want and no .part file is beside it.
func requireFile(t *testing.T, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s: %d bytes, not the %d served", path, len(got), len(want))
	}
	requireAbsent(t, path+PartSuffix)
}

func requireAbsent(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s exists (%v); want it absent", path, err)
	}
}

func TestFetch(t *testing.T) {
	fx := newFixture(300_000)
	srv := newServer(t, fx, nil)
	dest := filepath.Join(t.TempDir(), "f.bin")
	var last Progress
	calls := 0
	f := &Fetcher{OnProgress: func(_ File, p Progress) {
		if p.Done < last.Done || p.Total != int64(len(fx.data)) {
			t.Errorf("progress %+v after %+v, want non-decreasing of %d", p, last, len(fx.data))
		}
		last = p
		calls++
	}}
	res, err := f.Fetch(context.Background(), File{URL: srv.URL + "/f", Dest: dest, SHA256: fx.sum, Size: int64(len(fx.data))})
	if err != nil {
		t.Fatal(err)
	}
	requireFile(t, dest, fx.data)
	if res.Bytes != int64(len(fx.data)) || res.Resumed != 0 || res.SHA256 != fx.sum || !res.Pinned {
		t.Errorf("result %+v, want %d bytes, none resumed, sum %s, pinned", res, len(fx.data), fx.sum)
	}
	if calls == 0 || last.Done != int64(len(fx.data)) {
		t.Errorf("progress ended at %+v after %d calls, want all %d bytes", last, calls, len(fx.data))
	}
	if got := srv.requests(); len(got) != 1 || got[0] != "" {
		t.Errorf("requests' Range headers %q, want one request without Range", got)
	}
}

// TestFetchResumes: a transfer cut mid-way leaves a .part file (and no
// destination); the next Fetch continues it with a Range request.
func TestFetchResumes(t *testing.T) {
	fx := newFixture(200_000)
	const cut = 70_000
	srv := newServer(t, fx, func(w http.ResponseWriter, r *http.Request, call int) {
		if call == 1 {
			cutAfter(w, fx.data, cut)
		}
		http.ServeContent(w, r, "f", time.Time{}, bytes.NewReader(fx.data))
	})
	dest := filepath.Join(t.TempDir(), "f.bin")
	file := File{URL: srv.URL + "/f", Dest: dest, SHA256: fx.sum, Size: int64(len(fx.data))}

	_, err := (&Fetcher{Resumes: -1}).Fetch(context.Background(), file)
	if err == nil || !strings.Contains(err.Error(), "transfer cut") || !strings.Contains(err.Error(), "run again to resume") {
		t.Fatalf("a cut transfer without resumes: error %v, want one saying it was cut", err)
	}
	requireAbsent(t, dest)
	if n, _ := partSize(dest + PartSuffix); n != cut {
		t.Fatalf(".part file has %d bytes, want the %d received", n, cut)
	}

	res, err := (&Fetcher{}).Fetch(context.Background(), file)
	if err != nil {
		t.Fatal(err)
	}
	requireFile(t, dest, fx.data)
	if res.Resumed != cut {
		t.Errorf("resumed %d bytes, want %d", res.Resumed, cut)
	}
	if got, want := srv.requests(), []string{"", fmt.Sprintf("bytes=%d-", cut)}; !equal(got, want) {
		t.Errorf("Range headers %q, want %q", got, want)
	}
}

// TestFetchResumesAtOnce: with resumes allowed, one Fetch continues a cut
// transfer by itself.
func TestFetchResumesAtOnce(t *testing.T) {
	fx := newFixture(200_000)
	srv := newServer(t, fx, func(w http.ResponseWriter, r *http.Request, call int) {
		if call <= 2 {
			cutAfter(w, fx.data, 50_000*call)
		}
		http.ServeContent(w, r, "f", time.Time{}, bytes.NewReader(fx.data))
	})
	dest := filepath.Join(t.TempDir(), "f.bin")
	if _, err := (&Fetcher{}).Fetch(context.Background(), File{URL: srv.URL + "/f", Dest: dest, SHA256: fx.sum}); err != nil {
		t.Fatal(err)
	}
	requireFile(t, dest, fx.data)
	// The second response is cut after 100 000 bytes of the whole file,
	// sent from 0 as the handler ignores the Range: the .part starts over.
	if got, want := srv.requests(), []string{"", "bytes=50000-", "bytes=100000-"}; !equal(got, want) {
		t.Errorf("Range headers %q, want %q", got, want)
	}
}

// TestFetchWithoutRange: a server that ignores Range sends the whole file,
// which replaces the .part file's bytes instead of being appended to them.
func TestFetchWithoutRange(t *testing.T) {
	fx := newFixture(100_000)
	srv := newServer(t, fx, func(w http.ResponseWriter, r *http.Request, call int) {
		w.Write(fx.data) // 200, whatever the Range header
	})
	dest := filepath.Join(t.TempDir(), "f.bin")
	if err := os.WriteFile(dest+PartSuffix, []byte("not a prefix of the file"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := (&Fetcher{}).Fetch(context.Background(), File{URL: srv.URL + "/f", Dest: dest, SHA256: fx.sum, Size: int64(len(fx.data))})
	if err != nil {
		t.Fatal(err)
	}
	requireFile(t, dest, fx.data)
	if res.Resumed != 0 {
		t.Errorf("resumed %d bytes from a server without Range support, want 0", res.Resumed)
	}
	if got := srv.requests(); len(got) != 1 || got[0] != "bytes=24-" {
		t.Errorf("Range headers %q, want one request for bytes=24-", got)
	}
}

func TestFetchChecksumMismatch(t *testing.T) {
	fx := newFixture(10_000)
	other := newFixture(10)
	srv := newServer(t, fx, nil)
	dir := t.TempDir()
	dest := filepath.Join(dir, "f.bin")
	_, err := (&Fetcher{}).Fetch(context.Background(), File{URL: srv.URL + "/f", Dest: dest, SHA256: other.sum})
	var ce *ChecksumError
	if !errors.As(err, &ce) || ce.Want != other.sum || ce.Got != fx.sum {
		t.Fatalf("error %v, want a *ChecksumError expecting %s, getting %s", err, other.sum, fx.sum)
	}
	for _, w := range []string{"expected " + other.sum, "got " + fx.sum, "removed"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not say %q", err, w)
		}
	}
	requireAbsent(t, dest)
	requireAbsent(t, dest+PartSuffix)

	// A wrong size is caught before the sum.
	_, err = (&Fetcher{}).Fetch(context.Background(), File{URL: srv.URL + "/f", Dest: dest, SHA256: fx.sum, Size: 9_999})
	if !errors.As(err, &ce) || ce.What != "size" {
		t.Errorf("a file of another size: error %v, want a size mismatch", err)
	}
	requireAbsent(t, dest)
}

// TestFetchUnpinnedGzip: without a SHA-256, a .gz download is checked by
// gunzipping it.
func TestFetchUnpinnedGzip(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(newFixture(50_000).data)
	zw.Close()
	good := buf.Bytes()
	bad := bytes.Clone(good)
	bad[len(bad)/2] ^= 0xff
	for _, tt := range []struct {
		name string
		data []byte
		ok   bool
	}{{"intact", good, true}, {"corrupt", bad, false}} {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, fixture{data: tt.data}, nil)
			dest := filepath.Join(t.TempDir(), "f.h5.gz")
			res, err := (&Fetcher{}).Fetch(context.Background(), File{URL: srv.URL + "/f", Dest: dest})
			if tt.ok {
				if err != nil {
					t.Fatal(err)
				}
				requireFile(t, dest, tt.data)
				if res.Pinned {
					t.Errorf("an unpinned file's result says pinned")
				}
				return
			}
			var ce *ChecksumError
			if !errors.As(err, &ce) || ce.What != "gzip" {
				t.Fatalf("error %v, want a gzip *ChecksumError", err)
			}
			requireAbsent(t, dest)
			requireAbsent(t, dest+PartSuffix)
		})
	}
}

func TestFetchNotFound(t *testing.T) {
	srv := newServer(t, newFixture(10), nil)
	dest := filepath.Join(t.TempDir(), "f.bin")
	_, err := (&Fetcher{}).Fetch(context.Background(), File{URL: srv.URL + "/nope", Dest: dest})
	var se *StatusError
	if !errors.As(err, &se) || se.Status != "404 Not Found" || !strings.Contains(err.Error(), "HTTP 404 Not Found") {
		t.Fatalf("error %v, want a *StatusError 404", err)
	}
	requireAbsent(t, dest)
	requireAbsent(t, dest+PartSuffix)
}

// TestFetchStall: a server that stops sending fails the download after the
// stall timeout; what arrived stays in the .part file for the next attempt.
func TestFetchStall(t *testing.T) {
	fx := newFixture(100_000)
	release := make(chan struct{})
	defer close(release)
	srv := newServer(t, fx, func(w http.ResponseWriter, r *http.Request, call int) {
		w.Header().Set("Content-Length", fmt.Sprint(len(fx.data)))
		w.Write(fx.data[:1000])
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	dest := filepath.Join(t.TempDir(), "f.bin")
	start := time.Now()
	_, err := (&Fetcher{StallTimeout: 300 * time.Millisecond}).Fetch(context.Background(), File{URL: srv.URL + "/f", Dest: dest, SHA256: fx.sum})
	var se *StallError
	if !errors.As(err, &se) || se.Done != 1000 {
		t.Fatalf("error %v, want a *StallError after 1000 bytes", err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("the stall was noticed after %s, want about 300ms", took)
	}
	requireAbsent(t, dest)
	if n, _ := partSize(dest + PartSuffix); n != 1000 {
		t.Errorf(".part holds %d bytes, want the 1000 received", n)
	}
}

// TestFetchStallBeforeHeaders: a server that never answers is a stall too.
func TestFetchStallBeforeHeaders(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	srv := newServer(t, fixture{}, func(w http.ResponseWriter, r *http.Request, call int) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	_, err := (&Fetcher{StallTimeout: 200 * time.Millisecond}).Fetch(context.Background(), File{URL: srv.URL + "/f", Dest: filepath.Join(t.TempDir(), "f")})
	var se *StallError
	if !errors.As(err, &se) {
		t.Fatalf("error %v, want a *StallError", err)
	}
}

func TestFetchUnreachable(t *testing.T) {
	srv := newServer(t, newFixture(10), nil)
	url := srv.URL + "/f"
	srv.Close() // nothing listens there any more
	_, err := (&Fetcher{}).Fetch(context.Background(), File{URL: url, Dest: filepath.Join(t.TempDir(), "f")})
	var ue *UnreachableError
	if !errors.As(err, &ue) || !strings.Contains(url, ue.Host) || !strings.Contains(err.Error(), "offline?") {
		t.Fatalf("error %v, want an *UnreachableError naming the host", err)
	}
}

// TestFetchDiskFull writes the .part file to /dev/full (through a
// symbolic link), where every write fails with ENOSPC.
func TestFetchDiskFull(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full:", err)
	}
	fx := newFixture(100_000)
	srv := newServer(t, fx, nil)
	dest := filepath.Join(t.TempDir(), "f.bin")
	if err := os.Symlink("/dev/full", dest+PartSuffix); err != nil {
		t.Fatal(err)
	}
	_, err := (&Fetcher{}).Fetch(context.Background(), File{URL: srv.URL + "/f", Dest: dest, SHA256: fx.sum, Size: int64(len(fx.data))})
	if !errors.Is(err, ErrDiskFull) || !strings.Contains(err.Error(), "100000 more bytes needed") {
		t.Fatalf("error %v, want ErrDiskFull saying how much is needed", err)
	}
	requireAbsent(t, dest)
	if _, err := os.Lstat(dest + PartSuffix); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the partial file is still there after a full disk")
	}
}

// TestFetchReplaces: an existing destination is replaced only by a
// checked file; a failed download leaves it as it was.
func TestFetchReplaces(t *testing.T) {
	fx := newFixture(1000)
	srv := newServer(t, fx, nil)
	dest := filepath.Join(t.TempDir(), "f.bin")
	os.WriteFile(dest, []byte("old"), 0o644)
	if _, err := (&Fetcher{}).Fetch(context.Background(), File{URL: srv.URL + "/f", Dest: dest, SHA256: newFixture(3).sum}); err == nil {
		t.Fatal("a mismatching download succeeded")
	}
	if got, _ := os.ReadFile(dest); string(got) != "old" {
		t.Errorf("a failed download changed the existing file to %q", got)
	}
	if _, err := (&Fetcher{}).Fetch(context.Background(), File{URL: srv.URL + "/f", Dest: dest, SHA256: fx.sum}); err != nil {
		t.Fatal(err)
	}
	requireFile(t, dest, fx.data)
}

func equal(a, b []string) bool { return strings.Join(a, "|") == strings.Join(b, "|") }
