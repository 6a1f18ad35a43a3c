package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/term"
)

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// statusArea is a block of lines at the bottom of a terminal that is redrawn
// in place (Set); text written to it (Write: log records, messages) goes
// above the block, which is then drawn again, so that neither breaks the
// other. Lines are cut to the terminal's width so that none wraps (a
// wrapped line would throw off the redraw). It is safe for concurrent use.
//
// It uses three ANSI sequences, which every terminal emulator in use
// understands: cursor up (CSI n A), erase to the end of the screen (CSI J),
// and carriage return.
type statusArea struct {
	mu      sync.Mutex
	w       io.Writer
	fd      int      // for the width; -1 when w is not a terminal
	lines   []string // drawn, cut to the width
	partial []byte   // written text not yet ended by a newline
	closed  bool
}

func newStatusArea(w io.Writer) *statusArea {
	a := &statusArea{w: w, fd: -1}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		a.fd = int(f.Fd())
	}
	return a
}

// Set replaces the block's lines.
func (a *statusArea) Set(lines ...string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	cut := a.cut(lines)
	if a.closed || slices.Equal(cut, a.lines) {
		return // nothing to redraw: no flicker
	}
	var buf bytes.Buffer
	a.clear(&buf)
	a.lines = cut
	a.draw(&buf)
	a.w.Write(buf.Bytes())
}

// Write prints the complete lines of p above the block (an incomplete last
// line waits for its end).
func (a *statusArea) Write(p []byte) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.partial = append(a.partial, p...)
	end := bytes.LastIndexByte(a.partial, '\n')
	if end < 0 {
		return len(p), nil
	}
	var buf bytes.Buffer
	a.clear(&buf)
	buf.Write(a.partial[:end+1])
	a.partial = append(a.partial[:0], a.partial[end+1:]...)
	a.draw(&buf)
	if _, err := a.w.Write(buf.Bytes()); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Close leaves the block's last lines on the screen, followed by a newline,
// and writes any incomplete text; later Set calls do nothing, later
// writes are printed as they come.
func (a *statusArea) Close() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return
	}
	a.closed = true
	var buf bytes.Buffer
	if len(a.lines) > 0 {
		buf.WriteByte('\n')
	}
	a.lines = nil // later writes go below
	if len(a.partial) > 0 {
		buf.Write(a.partial)
		buf.WriteByte('\n')
		a.partial = a.partial[:0]
	}
	a.w.Write(buf.Bytes())
}

// clear moves to the start of the block and erases it.
func (a *statusArea) clear(buf *bytes.Buffer) {
	if len(a.lines) == 0 {
		return
	}
	buf.WriteByte('\r')
	if n := len(a.lines) - 1; n > 0 {
		fmt.Fprintf(buf, "\033[%dA", n)
	}
	buf.WriteString("\033[J")
}

// draw writes the block, leaving the cursor at the end of its last line.
func (a *statusArea) draw(buf *bytes.Buffer) {
	buf.WriteString(strings.Join(a.lines, "\n"))
}

// cut shortens each line to one less than the terminal's width (when
// known) and removes newlines from them.
func (a *statusArea) cut(lines []string) []string {
	width := 0
	if a.fd >= 0 {
		if w, _, err := term.GetSize(a.fd); err == nil {
			width = w - 1
		}
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		l = strings.ReplaceAll(l, "\n", " ")
		if width > 0 && utf8.RuneCountInString(l) > width {
			r := []rune(l)
			l = string(r[:max(width-1, 0)]) + "…"
		}
		out[i] = l
	}
	return out
}
