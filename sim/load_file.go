package sim

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// findPlainOrGzip returns dir/base or dir/base.gz, whichever exists (the
// plain one if both do). When neither does, the error names what is missing
// (e.g. "training images"; may be empty), the paths tried and the file
// format (e.g. "IDX"), and wraps fs.ErrNotExist.
func findPlainOrGzip(dir, base, what, format string) (string, error) {
	tried := make([]string, 0, 2)
	for _, name := range []string{base, base + ".gz"} {
		path := filepath.Join(dir, name)
		_, err := os.Stat(path)
		if err == nil {
			return path, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		tried = append(tried, path)
	}
	notFound := "file not found"
	if what != "" {
		notFound = what + " " + notFound
	}
	return "", &missingFileError{fmt.Sprintf("%s: want %s (%s, gzip or plain)", notFound, strings.Join(tried, " or "), format)}
}

// missingFileError is findPlainOrGzip's error when neither file exists.
type missingFileError struct{ msg string }

func (e *missingFileError) Error() string { return e.msg }
func (e *missingFileError) Unwrap() error { return fs.ErrNotExist }
