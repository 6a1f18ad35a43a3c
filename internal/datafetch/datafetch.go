// Package datafetch downloads files over HTTP into place, checked.
//
// A file is written to DEST.part beside its destination and renamed to DEST
// (atomic on one file system) only after its SHA-256 (or, for an unpinned
// .gz file, its gzip CRC-32 and length) and size are right, so DEST is
// never half-written: it is absent or complete. A .part file left by an
// interrupted download is continued with an HTTP Range request; a server
// that answers a Range request with the whole file (200) restarts it from
// the start. A transfer cut mid-way (connection lost, unexpected EOF) is
// resumed at once, up to Fetcher.Resumes times. A server that sends nothing
// for Fetcher.StallTimeout fails the download (the .part file stays, for the
// next attempt).
//
// Errors say what failed: *StatusError (an HTTP status), *UnreachableError
// (no connection: offline, DNS, refused), *ChecksumError (expected and got;
// the bad file is removed), *StallError, and disk errors (ErrDiskFull for a
// full disk: the .part file is removed to give the space back).
package datafetch

import (
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// File is a file to download.
type File struct {
	// URL is where the file is served.
	URL string
	// Dest is the path the file is moved to once checked.
	Dest string
	// SHA256 is the file's hex SHA-256, or "" when none is known: then a
	// .gz file is checked by gunzipping it and other files by size only.
	SHA256 string
	// Size is the file's size in bytes, or 0 when not known.
	Size int64
}

// Progress is the state of a download: Done of Total bytes (Total 0 when
// unknown), Done counting the bytes kept from an earlier attempt.
type Progress struct {
	Done, Total int64
}

// Result describes a completed download.
type Result struct {
	// Bytes is the file's size; Resumed the bytes that came from an
	// earlier attempt's .part file.
	Bytes, Resumed int64
	// SHA256 is the file's hex SHA-256.
	SHA256 string
	// Pinned is true when SHA256 was checked against File.SHA256.
	Pinned bool
}

// Fetcher downloads files. The zero Fetcher is ready to use.
type Fetcher struct {
	// Client makes the requests; nil means a client whose connections
	// time out after StallTimeout.
	Client *http.Client
	// StallTimeout is how long a download may go without receiving a
	// byte; 0 means DefaultStallTimeout.
	StallTimeout time.Duration
	// Resumes is how often a transfer cut mid-way is continued at once;
	// 0 means DefaultResumes, negative none.
	Resumes int
	// OnProgress, if set, is called after every write of a download (often:
	// throttle what it draws).
	OnProgress func(File, Progress)
}

// Defaults of Fetcher's fields.
const (
	DefaultStallTimeout = 30 * time.Second
	DefaultResumes      = 3
)

// PartSuffix is appended to File.Dest for the file being downloaded.
const PartSuffix = ".part"

// StatusError is an HTTP response with an unexpected status.
type StatusError struct {
	URL    string
	Status string // e.g. "404 Not Found"
}

func (e *StatusError) Error() string { return fmt.Sprintf("GET %s: HTTP %s", e.URL, e.Status) }

// UnreachableError is a request that reached no server.
type UnreachableError struct {
	Host string
	Err  error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("cannot reach %s (offline?): %v", e.Host, e.Err)
}
func (e *UnreachableError) Unwrap() error { return e.Err }

// ChecksumError is a downloaded file whose content is not the one expected.
// The file has been removed.
type ChecksumError struct {
	URL       string
	What      string // "SHA-256", "size" or "gzip"
	Want, Got string
}

func (e *ChecksumError) Error() string {
	if e.Want == "" {
		return fmt.Sprintf("%s: %s check failed: %s; the download was removed", e.URL, e.What, e.Got)
	}
	return fmt.Sprintf("%s: %s mismatch: expected %s, got %s; the download was removed", e.URL, e.What, e.Want, e.Got)
}

// StallError is a download that received nothing for Timeout.
type StallError struct {
	URL     string
	Timeout time.Duration
	Done    int64 // bytes in the .part file
}

func (e *StallError) Error() string {
	return fmt.Sprintf("%s: no data for %s (stalled after %d bytes; run again to resume)", e.URL, e.Timeout, e.Done)
}

// ErrDiskFull is wrapped by the error of a download that ran out of space.
var ErrDiskFull = errors.New("disk full")

// Fetch downloads file into file.Dest, continuing file.Dest+PartSuffix if
// an earlier attempt left one. An existing file.Dest is replaced.
func (f *Fetcher) Fetch(ctx context.Context, file File) (*Result, error) {
	part := file.Dest + PartSuffix
	resumes := f.Resumes
	if resumes == 0 {
		resumes = DefaultResumes
	}
	resumed := int64(-1) // where the first transfer started
	for attempt := 0; ; attempt++ {
		start, err := partSize(part)
		if err != nil {
			return nil, err
		}
		from, got, err := f.transfer(ctx, file, part, start)
		if resumed < 0 {
			resumed = from
		}
		if err == nil {
			break
		}
		var cut *cutError
		if errors.As(err, &cut) && got > 0 && attempt < resumes && ctx.Err() == nil {
			continue // resume from what arrived
		}
		if cut != nil {
			err = fmt.Errorf("%s: transfer cut: %w (run again to resume)", file.URL, cut.err)
		}
		return nil, err
	}
	sum, err := check(file, part)
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(part)
	if err != nil {
		return nil, err
	}
	if err := os.Rename(part, file.Dest); err != nil {
		return nil, err
	}
	return &Result{Bytes: fi.Size(), Resumed: resumed, SHA256: sum, Pinned: file.SHA256 != ""}, nil
}

// partSize is the size of the .part file, 0 if there is none.
func partSize(part string) (int64, error) {
	fi, err := os.Stat(part)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// cutError is a transfer that ended before the server's whole response
// arrived.
type cutError struct{ err error }

func (e *cutError) Error() string { return e.err.Error() }

// transfer appends the rest of file to part, which holds start bytes. It
// returns the offset it wrote from (start, or 0 when the transfer began
// anew) and the bytes received.
func (f *Fetcher) transfer(ctx context.Context, file File, part string, start int64) (from, got int64, err error) {
	if file.Size > 0 && start > file.Size {
		start = 0 // longer than the file: not a prefix of it
	}
	if file.Size > 0 && start == file.Size {
		return start, 0, nil // complete; check decides
	}
	stall := f.StallTimeout
	if stall <= 0 {
		stall = DefaultStallTimeout
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stalled := errors.New("stalled")
	timer := time.AfterFunc(stall, func() { cancel(stalled) })
	defer timer.Stop()

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, file.URL, nil)
	if err != nil {
		return start, 0, err
	}
	if start > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", start))
	}
	resp, err := f.client(stall).Do(req)
	if err != nil {
		if context.Cause(ctx) == stalled {
			return start, 0, &StallError{URL: file.URL, Timeout: stall, Done: start}
		}
		if ctx.Err() != nil {
			return start, 0, ctx.Err()
		}
		return start, 0, unreachable(file.URL, err)
	}
	defer resp.Body.Close()

	switch resp.StatusCode {
	case http.StatusOK:
		start = 0 // the whole file: Range unsupported, or not asked
	case http.StatusPartialContent:
		if first, ok := rangeStart(resp.Header.Get("Content-Range")); !ok || first != start {
			return start, 0, fmt.Errorf("%s: asked for bytes from %d, the server sent Content-Range %q", file.URL, start, resp.Header.Get("Content-Range"))
		}
	case http.StatusRequestedRangeNotSatisfiable:
		// The .part file is as long as the file or longer: check decides
		// (and removes it if it is wrong).
		if start > 0 {
			return start, 0, nil
		}
		fallthrough
	default:
		return start, 0, &StatusError{URL: file.URL, Status: resp.Status}
	}

	// part holds start bytes (partSize): append to them, or start anew.
	flags := os.O_WRONLY | os.O_CREATE
	if start == 0 {
		flags |= os.O_TRUNC
	}
	out, err := os.OpenFile(part, flags, 0o644)
	if err != nil {
		return start, 0, err
	}
	if _, err := out.Seek(start, io.SeekStart); err != nil {
		out.Close()
		return start, 0, err
	}
	total := file.Size
	if total == 0 && resp.ContentLength > 0 {
		total = start + resp.ContentLength
	}
	done := start
	buf := make([]byte, 64<<10)
	var readErr error
	for {
		n, err := resp.Body.Read(buf)
		if n > 0 {
			timer.Reset(stall)
			if _, werr := out.Write(buf[:n]); werr != nil {
				out.Close()
				return start, done - start, diskError(part, werr, total-done)
			}
			done += int64(n)
			if f.OnProgress != nil {
				f.OnProgress(file, Progress{Done: done, Total: total})
			}
		}
		if err != nil {
			if err != io.EOF {
				readErr = err
			}
			break
		}
	}
	if err := out.Sync(); err != nil && readErr == nil {
		out.Close()
		return start, done - start, diskError(part, err, 0)
	}
	if err := out.Close(); err != nil && readErr == nil {
		return start, done - start, diskError(part, err, 0)
	}
	switch {
	case readErr == nil:
		if resp.ContentLength >= 0 && done-start < resp.ContentLength {
			return start, done - start, &cutError{io.ErrUnexpectedEOF}
		}
		return start, done - start, nil
	case context.Cause(ctx) == stalled:
		return start, done - start, &StallError{URL: file.URL, Timeout: stall, Done: done}
	case ctx.Err() != nil:
		return start, done - start, ctx.Err()
	default:
		return start, done - start, &cutError{readErr}
	}
}

// client is f.Client or a default client whose connections time out after
// stall.
func (f *Fetcher) client(stall time.Duration) *http.Client {
	if f.Client != nil {
		return f.Client
	}
	// The stall timer of transfer covers the wait for headers.
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: stall}).DialContext
	return &http.Client{Transport: t}
}

// unreachable wraps a request error that reached no server in an
// *UnreachableError.
func unreachable(rawURL string, err error) error {
	var opErr *net.OpError
	var dnsErr *net.DNSError
	if errors.As(err, &opErr) || errors.As(err, &dnsErr) {
		host := rawURL
		if u, perr := url.Parse(rawURL); perr == nil {
			host = u.Host
		}
		return &UnreachableError{Host: host, Err: err}
	}
	return err
}

// rangeStart parses the first byte of a Content-Range "bytes a-b/n".
func rangeStart(header string) (int64, bool) {
	spec, ok := strings.CutPrefix(header, "bytes ")
	if !ok {
		return 0, false
	}
	first, _, ok := strings.Cut(spec, "-")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(first, 10, 64)
	return n, err == nil
}

// diskError describes a failed write to part; a full disk removes part
// (need is the bytes still to come, when known).
func diskError(part string, err error, need int64) error {
	if errors.Is(err, syscall.ENOSPC) {
		os.Remove(part)
		msg := ""
		if need > 0 {
			msg = fmt.Sprintf(" (%d more bytes needed)", need)
		}
		return fmt.Errorf("writing %s: %w%s: %v; the partial file was removed", part, ErrDiskFull, msg, err)
	}
	return fmt.Errorf("writing %s: %w", part, err)
}

// check verifies the downloaded part against file and returns its hex
// SHA-256; a file that fails is removed.
func check(file File, part string) (string, error) {
	got, size, err := Sum(part)
	if err != nil {
		return "", err
	}
	fail := func(what, want, got string) (string, error) {
		os.Remove(part)
		return "", &ChecksumError{URL: file.URL, What: what, Want: want, Got: got}
	}
	if file.Size > 0 && size != file.Size {
		return fail("size", fmt.Sprintf("%d bytes", file.Size), fmt.Sprintf("%d bytes", size))
	}
	if file.SHA256 != "" {
		if !strings.EqualFold(got, file.SHA256) {
			return fail("SHA-256", file.SHA256, got)
		}
		return got, nil
	}
	if strings.HasSuffix(file.Dest, ".gz") {
		if err := CheckGzip(part); err != nil {
			return fail("gzip", "", err.Error())
		}
	}
	return got, nil
}

// Sum returns the hex SHA-256 and the size of the file at path.
func Sum(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("%s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// CheckGzip reads the gzip file at path to its end, which checks every
// member's CRC-32 and length.
func CheckGzip(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, zr)
	return err
}
