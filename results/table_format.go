package results

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Table output formats.
const (
	FormatText = "table"
	FormatCSV  = "csv"
	FormatJSON = "json"
)

// Write renders the table in one of the formats FormatText, FormatCSV or
// FormatJSON. Only the text format includes the notes.
func (t *Table) Write(w io.Writer, format string) error {
	switch format {
	case FormatText, "":
		return t.WriteText(w)
	case FormatCSV:
		return t.WriteCSV(w)
	case FormatJSON:
		return t.WriteJSON(w)
	}
	return fmt.Errorf("format: %q is not one of %s, %s, %s", format, FormatText, FormatCSV, FormatJSON)
}

// textCell renders a cell for people: keys with full precision, counts as
// integers, other statistics with 4 significant digits, nothing as "-".
func (t *Table) textCell(col int, v Value) string {
	c := &t.Columns[col]
	switch {
	case v.Kind == KindNone:
		return "-"
	case v.Kind != KindNumber:
		return v.Text
	case c.Key != "":
		return v.String()
	case c.isCount():
		return strconv.FormatFloat(v.Num, 'f', 0, 64)
	}
	return FormatStat(v.Num)
}

// WriteText writes an aligned table (numbers right, texts left, two spaces
// between columns), then the notes.
func (t *Table) WriteText(w io.Writer) error {
	bw := bufio.NewWriter(w)
	cells := make([][]string, len(t.Rows)+1)
	width := make([]int, len(t.Columns))
	numeric := make([]bool, len(t.Columns))
	cells[0] = make([]string, len(t.Columns))
	for j, c := range t.Columns {
		cells[0][j] = c.Name
		width[j] = utf8.RuneCountInString(c.Name)
		numeric[j] = true
	}
	for i, row := range t.Rows {
		cells[i+1] = make([]string, len(row))
		for j, v := range row {
			s := t.textCell(j, v)
			cells[i+1][j] = s
			width[j] = max(width[j], utf8.RuneCountInString(s))
			if v.Kind != KindNumber && v.Kind != KindNone {
				numeric[j] = false
			}
		}
	}
	for _, line := range cells {
		var b strings.Builder
		for j, s := range line {
			pad := strings.Repeat(" ", width[j]-utf8.RuneCountInString(s))
			if j > 0 {
				b.WriteString("  ")
			}
			if numeric[j] {
				b.WriteString(pad + s)
			} else {
				b.WriteString(s)
				if j < len(line)-1 {
					b.WriteString(pad)
				}
			}
		}
		bw.WriteString(strings.TrimRight(b.String(), " "))
		bw.WriteByte('\n')
	}
	if len(t.Notes) > 0 {
		bw.WriteByte('\n')
		for _, n := range t.Notes {
			bw.WriteString(n)
			bw.WriteByte('\n')
		}
	}
	return bw.Flush()
}

// WriteCSV writes a header of column names and one record per row;
// numbers with full precision, lists as JSON, nothing as an empty field.
func (t *Table) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	rec := make([]string, len(t.Columns))
	for j, c := range t.Columns {
		rec[j] = c.Name
	}
	if err := cw.Write(rec); err != nil {
		return err
	}
	for _, row := range t.Rows {
		for j, v := range row {
			rec[j] = v.String()
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteJSON writes the rows as a JSON array of objects keyed by column
// name, in column order (what pandas.read_json and jsonlite read as a data
// frame); nothing is null.
func (t *Table) WriteJSON(w io.Writer) error {
	bw := bufio.NewWriter(w)
	bw.WriteByte('[')
	var buf []byte
	for i, row := range t.Rows {
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString("\n{")
		for j, v := range row {
			if j > 0 {
				bw.WriteByte(',')
			}
			buf = appendJSONString(buf[:0], t.Columns[j].Name)
			buf = append(buf, ':')
			buf = v.appendJSON(buf)
			bw.Write(buf)
		}
		bw.WriteByte('}')
	}
	bw.WriteString("\n]\n")
	return bw.Flush()
}
