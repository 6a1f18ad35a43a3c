package resultstest

import (
	"encoding/csv"
	"strings"
	"testing"
)

// ReadCSV parses a CSV table (an export, or `sgsweep results --format csv`)
// into its header and its rows keyed by column name; a malformed table, or
// a row whose length differs from the header's, fails the test.
func ReadCSV(t testing.TB, text string) (header []string, rows []map[string]string) {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(text)).ReadAll()
	if err != nil || len(recs) == 0 {
		t.Fatalf("not a CSV table: %v (%d lines)", err, len(recs))
	}
	for _, rec := range recs[1:] {
		if len(rec) != len(recs[0]) {
			t.Fatalf("row has %d fields, header %d", len(rec), len(recs[0]))
		}
		row := map[string]string{}
		for i, v := range rec {
			row[recs[0][i]] = v
		}
		rows = append(rows, row)
	}
	return recs[0], rows
}
