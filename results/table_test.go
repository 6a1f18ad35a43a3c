package results

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"testing"
)

// roundTripTable is a query result with every kind of cell: texts, numbers
// (with full float64 precision), lists, and empty cells.
func roundTripTable(t *testing.T) *Table {
	t.Helper()
	tab := runQuery(t, shapeScaleSweep(t), QueryRequest{Sweep: "fig", Aggs: []string{"all", "values"}, Compare: CompareBest})
	tab.Rows[0][0] = String(`quote " comma , newline ` + "\n" + ` unicode β`)
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
			case KindNumber:
				x, err := strconv.ParseFloat(got, 64)
				if err != nil || x != v.Num {
					t.Errorf("row %d %s: %q does not read back as %v", i, tab.Columns[j].Name, got, v.Num)
				}
			case KindNone:
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
			var got Value
			if err := json.Unmarshal(raw, &got); err != nil {
				t.Fatal(err)
			}
			if !got.Equal(v) {
				t.Errorf("row %d %s = %#v, want %#v", i, tab.Columns[j].Name, got, v)
			}
		}
	}
	// The wire format (the coordinator's results endpoint): Table as is.
	wire, err := json.Marshal(tab)
	if err != nil {
		t.Fatal(err)
	}
	var back Table
	if err := json.Unmarshal(wire, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&back, tab) {
		t.Errorf("wire round trip changed the table:\n%+v\nwant\n%+v", back, *tab)
	}
}

func TestValueJSON(t *testing.T) {
	for _, v := range []Value{{}, Number(0.1), Number(-3), Number(1e-300), String("a\tb"), Bool(true), Bool(false),
		{Kind: KindList, Text: "[100,100]"}} {
		raw, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var back Value
		if err := json.Unmarshal(raw, &back); err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		if back != v {
			t.Errorf("%#v → %s → %#v", v, raw, back)
		}
	}
	if v := Number(math.NaN()); !v.IsNone() {
		t.Errorf("Number(NaN) = %#v, want nothing", v)
	}
}

func TestTableWriteUnknownFormat(t *testing.T) {
	tab := &Table{}
	if err := tab.Write(&bytes.Buffer{}, "xlsx"); err == nil {
		t.Error("Write(xlsx) succeeded")
	}
}
