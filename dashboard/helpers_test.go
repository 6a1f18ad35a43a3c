package dashboard_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/sgsweep/sgsweep/dashboard"
	"github.com/sgsweep/sgsweep/results/resultstest"
	"github.com/sgsweep/sgsweep/results/store"
)

// storeServer serves a real store holding resultstest.ShapeScale ("fig"),
// opened read-only, with token (none: "").
func storeServer(t *testing.T, token string) (*httptest.Server, *store.Store) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state.db")
	resultstest.WriteStore(t, path, resultstest.ShapeScale(t))
	st := resultstest.OpenStore(t, path, &store.Options{ReadOnly: true})
	srv, err := dashboard.New(dashboard.StoreSource(st), nil, dashboard.Options{Token: token})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts, st
}

// get fetches a path and returns the status and body.
func get(t *testing.T, ts *httptest.Server, path string, header ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, ts.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

// mustGet fetches a path that must answer 200.
func mustGet(t *testing.T, ts *httptest.Server, path string) string {
	t.Helper()
	code, body := get(t, ts, path)
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, code, body)
	}
	return body
}

var (
	headerCell = regexp.MustCompile(`<th data-col="([^"]*)">`)
	rowRe      = regexp.MustCompile(`(?s)<tr>(.*?)</tr>`)
	valueCell  = regexp.MustCompile(`<td data-v="([^"]*)"`)
)

// htmlTable reads the results table of a sweep page: its column names and
// its cells' full-precision values.
func htmlTable(t *testing.T, page string) (cols []string, rows [][]string) {
	t.Helper()
	start := strings.Index(page, `<table class="results" id="results">`)
	if start < 0 {
		t.Fatalf("no results table in the page:\n%s", page)
	}
	table := page[start : start+strings.Index(page[start:], "</table>")]
	for _, m := range headerCell.FindAllStringSubmatch(table, -1) {
		cols = append(cols, unescape(m[1]))
	}
	body := table[strings.Index(table, "<tbody>"):]
	for _, r := range rowRe.FindAllStringSubmatch(body, -1) {
		var row []string
		for _, m := range valueCell.FindAllStringSubmatch(r[1], -1) {
			row = append(row, unescape(m[1]))
		}
		rows = append(rows, row)
	}
	return cols, rows
}

func unescape(s string) string {
	return strings.NewReplacer("&#34;", `"`, "&#39;", "'", "&lt;", "<", "&gt;", ">", "&amp;", "&", "&#43;", "+").Replace(s)
}
