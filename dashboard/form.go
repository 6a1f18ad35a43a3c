package dashboard

import (
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/sgsweep/sgsweep/results"
	"github.com/sgsweep/sgsweep/results/plot"
)

// tableForm is the sweep page's results-table options: the flags of
// `sgsweep results`, under the same names.
type tableForm struct {
	GroupBy, Metric, Agg, Where, Sort, Top, Epoch, Compare string
	// Include is "stopped" to put stopped tasks in (--include stopped).
	Include string
}

// figureForm is the sweep page's figure options: the flags of `sgsweep
// plot`, under the same names prefixed with "fig-" on the page.
type figureForm struct {
	Kind, Metric, X, Y, Series, Conditions, Where, Epoch, Band, Cell, Best, LogX, Label, Title string
	ErrorBars                                                                                  bool
	// Include is "stopped" to put stopped tasks in (--include stopped).
	Include string
}

func tableFormOf(v url.Values) tableForm {
	return tableForm{GroupBy: v.Get("group-by"), Metric: v.Get("metric"), Agg: v.Get("agg"),
		Where: strings.Join(v["where"], "\n"), Sort: v.Get("sort"), Top: v.Get("top"), Epoch: v.Get("epoch"),
		Compare: v.Get("compare"), Include: v.Get("include")}
}

// request is the results query the form asks for.
func (f tableForm) request(sweep string) results.QueryRequest {
	return results.QueryRequest{Sweep: sweep, GroupBy: list(f.GroupBy), Metrics: list(f.Metric), Aggs: list(f.Agg),
		Where: lines(f.Where), Sort: strings.TrimSpace(f.Sort), Top: atoi(f.Top), Epoch: atoi(f.Epoch),
		Compare: strings.TrimSpace(f.Compare), Include: list(f.Include)}
}

// values are the form's non-empty fields, for links.
func (f tableForm) values() url.Values {
	return encode("group-by", f.GroupBy, "metric", f.Metric, "agg", f.Agg, "where", f.Where, "sort", f.Sort,
		"top", f.Top, "epoch", f.Epoch, "compare", f.Compare, "include", f.Include)
}

// figureFormOf reads the figure options under prefix ("fig-" on the sweep
// page, none on figure.svg).
func figureFormOf(v url.Values, prefix string) figureForm {
	g := func(name string) string { return strings.Join(v[prefix+name], "\n") }
	return figureForm{Kind: g("kind"), Metric: g("metric"), X: g("x"), Y: g("y"), Series: g("series"),
		Conditions: g("conditions"), Where: g("where"), Epoch: g("epoch"), Band: g("band"), Cell: g("cell"),
		Best: g("best"), LogX: g("log-x"), Label: g("label"), Title: g("title"), ErrorBars: g("error-bars") != "",
		Include: g("include")}
}

// request is the figure the form asks for (no kind: the default figure).
func (f figureForm) request(sweep string) plotRequest {
	return plotRequest{Sweep: sweep, Kind: strings.TrimSpace(f.Kind), Metric: strings.TrimSpace(f.Metric),
		X: strings.TrimSpace(f.X), Y: strings.TrimSpace(f.Y), Series: list(f.Series), Conditions: list(f.Conditions),
		Where: lines(f.Where), Epoch: atoi(f.Epoch), Band: strings.TrimSpace(f.Band), Cell: strings.TrimSpace(f.Cell),
		Best: atoi(f.Best), ErrorBars: f.ErrorBars, Labels: lines(f.Label), LogX: strings.TrimSpace(f.LogX),
		Title: strings.TrimSpace(f.Title), Include: list(f.Include)}
}

// values are the form's fields without prefix: figure.svg's query.
func (f figureForm) values() url.Values {
	v := encode("kind", f.Kind, "metric", f.Metric, "x", f.X, "y", f.Y, "series", f.Series,
		"conditions", f.Conditions, "where", f.Where, "epoch", f.Epoch, "band", f.Band, "cell", f.Cell,
		"best", f.Best, "log-x", f.LogX, "label", f.Label, "title", f.Title, "include", f.Include)
	if f.ErrorBars {
		v.Set("error-bars", "1")
	}
	return v
}

// defaultFigure fills a request without a kind from the table of the
// sweep's default query: a line plot over the first numeric varying
// parameter, one series per value of another one; bars of the first
// varying parameter when none is numeric. It reports false when nothing
// varies.
func defaultFigure(req *plot.Request, tab *results.Table) bool {
	keys := tab.KeyColumns()
	if len(keys) == 0 || len(tab.Rows) == 0 {
		return false
	}
	x := slices.IndexFunc(keys, func(k int) bool { return tab.Rows[0][k].Kind == results.KindNumber })
	if x < 0 {
		req.Kind, req.Conditions = plot.KindBars, []string{tab.Columns[keys[0]].Key}
		return true
	}
	req.Kind, req.X = plot.KindLine, tab.Columns[keys[x]].Key
	for i, k := range keys {
		if i != x {
			req.Series = []string{tab.Columns[k].Key}
			break
		}
	}
	return true
}

// ValidateDefault validates the request, or only its filter when it asks
// for the default figure (no kind).
func (r plotRequest) ValidateDefault() error {
	if r.Kind == "" {
		if err := results.CheckInclude(r.Include); err != nil {
			return err
		}
		_, err := results.ParseFilter(r.Where, r.Epoch)
		return err
	}
	req := plot.Request(r)
	return req.Validate()
}

// plotRequest is a plot.Request that may ask for the default figure.
type plotRequest plot.Request

// encode makes a query of name, value pairs: a value's lines are
// repeated parameters, empty values are left out.
func encode(pairs ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(pairs); i += 2 {
		for _, line := range lines(pairs[i+1]) {
			v.Add(pairs[i], line)
		}
	}
	return v
}

// list splits a comma-separated field.
func list(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// lines splits a field with one clause per line.
func lines(s string) []string {
	var out []string
	for _, p := range strings.Split(s, "\n") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func atoi(s string) int {
	n, _ := strconv.Atoi(strings.TrimSpace(s))
	return n
}
