package results_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"testing"

	"github.com/sgsweep/sgsweep/results"
	"github.com/sgsweep/sgsweep/results/resultstest"
)

// roundTripTable is a query result with every kind of cell: texts, numbers
// (with full float64 precision), lists, and empty cells.
func roundTripTable(t *testing.T) *results.Table {
	t.Helper()
	tab := runQuery(t, resultstest.ShapeScale(t), results.QueryRequest{Sweep: "fig", Aggs: []string{"all", "values"}, Compare: results.CompareBest})
	tab.Rows[0][0] = results.String(`quote " comma , newline ` + "\n" + ` unicode β`)
	return tab
}

func TestTableCSVRoundTrip(t *testing.T) {
	tab := roundTripTable(t)
	var b bytes.Buffer
	if err := tab.WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(tab.Rows)+1 {
		t.Fatalf("%d CSV records, want %d", len(recs), len(tab.Rows)+1)
	}
	for j, c := range tab.Columns {
		if recs[0][j] != c.Name {
			t.Errorf("header[%d] = %q, want %q", j, recs[0][j], c.Name)
		}
	}
	for i, row := range tab.Rows {
		for j, v := range row {
			got := recs[i+1][j]
			switch v.Kind {
			case results.KindNumber:
				x, err := strconv.ParseFloat(got, 64)
				if err != nil || x != v.Num {
					t.Errorf("row %d %s: %q does not read back as %v", i, tab.Columns[j].Name, got, v.Num)
				}
			case results.KindNone:
				if got != "" {
					t.Errorf("row %d %s: %q, want empty", i, tab.Columns[j].Name, got)
				}
			default:
				if got != v.Text {
					t.Errorf("row %d %s: %q, want %q", i, tab.Columns[j].Name, got, v.Text)
				}
			}
		}
	}
}

func TestTableJSONRoundTrip(t *testing.T) {
	tab := roundTripTable(t)
	// The output format: an array of objects, keys in column order.
	var b bytes.Buffer
	if err := tab.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var rows []map[string]json.RawMessage
	if err := json.Unmarshal(b.Bytes(), &rows); err != nil {
		t.Fatalf("output is not a JSON array of objects: %v\n%s", err, b.String())
	}
	if len(rows) != len(tab.Rows) {
		t.Fatalf("%d JSON rows, want %d", len(rows), len(tab.Rows))
	}
	for i, row := range tab.Rows {
		for j, v := range row {
			raw, ok := rows[i][tab.Columns[j].Name]
			if !ok {
				t.Fatalf("row %d lacks %s", i, tab.Columns[j].Name)
			}
			var got results.Value
			if err := json.Unmarshal(raw, &got); err != nil {
				t.Fatal(err)
			}
			if !got.Equal(v) {
				t.Errorf("row %d %s = %#v, want %#v", i, tab.Columns[j].Name, got, v)
			}
		}
	}
	// The wire format (the coordinator's results endpoint): results.Table as is.
	wire, err := json.Marshal(tab)
	if err != nil {
		t.Fatal(err)
	}
	var back results.Table
	if err := json.Unmarshal(wire, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&back, tab) {
		t.Errorf("wire round trip changed the table:\n%+v\nwant\n%+v", back, *tab)
	}
}

func TestValueJSON(t *testing.T) {
	for _, v := range []results.Value{{}, results.Number(0.1), results.Number(-3), results.Number(1e-300), results.String("a\tb"), results.Bool(true), results.Bool(false),
		{Kind: results.KindList, Text: "[100,100]"}} {
		raw, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var back results.Value
		if err := json.Unmarshal(raw, &back); err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		if back != v {
			t.Errorf("%#v → %s → %#v", v, raw, back)
		}
	}
	if v := results.Number(math.NaN()); !v.IsNone() {
		t.Errorf("results.Number(NaN) = %#v, want nothing", v)
	}
}

func TestTableWriteUnknownFormat(t *testing.T) {
	tab := &results.Table{}
	if err := tab.Write(&bytes.Buffer{}, "xlsx"); err == nil {
		t.Error("Write(xlsx) succeeded")
	}
}
