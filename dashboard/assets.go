package dashboard

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/sgsweep/sgsweep/results"
	"github.com/sgsweep/sgsweep/results/plot"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static/app.js static/app.css
var staticFS embed.FS

// pages are the page templates, each parsed with the layout.
var pages = func() map[string]*template.Template {
	out := map[string]*template.Template{}
	for _, name := range []string{"sweeps", "sweep", "task", "login"} {
		out[name] = template.Must(template.New("layout.html").Funcs(funcs).
			ParseFS(templateFS, "templates/layout.html", "templates/parts.html", "templates/"+name+".html"))
	}
	return out
}()

// fragment is the results table alone (table.html).
var fragment = template.Must(template.New("table.html").Funcs(funcs).ParseFS(templateFS, "templates/table.html"))

// reportPage is the self-contained report (WriteReport): the dashboard's
// parts and table, no layout, no script.
var reportPage = template.Must(template.New("report.html").Funcs(funcs).
	ParseFS(templateFS, "templates/report.html", "templates/parts.html", "templates/table.html"))

// funcs format numbers for people in the templates.
var funcs = template.FuncMap{
	"pct":  percent,
	"stat": results.FormatStat,
	"cell": cellText,
	"eta":  etaText,
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.UTC().Format("2006-01-02 15:04:05Z")
	},
	"rate":  func(r float64) string { return strconv.FormatFloat(r, 'f', 2, 64) },
	"add":   func(a, b int) int { return a + b },
	"list4": func() []string { return []string{plot.KindLine, plot.KindHeatmap, plot.KindCurves, plot.KindBars} },
}

// percent is part of whole in percent, one decimal.
func percent(part, whole int) string {
	if whole == 0 {
		return "0"
	}
	return strconv.FormatFloat(100*float64(part)/float64(whole), 'f', 1, 64)
}

// etaText renders an ETA in seconds, "-" when unknown.
func etaText(s float64) string {
	if s <= 0 || math.IsInf(s, 0) || math.IsNaN(s) {
		return "-"
	}
	return time.Duration(s * float64(time.Second)).Round(time.Second).String()
}

// cellText renders a table cell for people, as `sgsweep results` does in
// its text format: keys and counts exactly, statistics with 4
// significant digits, nothing as "-". The cell's full-precision value is
// in its data-v attribute.
func cellText(c results.Column, v results.Value) string {
	switch {
	case v.Kind == results.KindNone:
		return "-"
	case v.Kind != results.KindNumber || c.Key != "":
		return v.String()
	case v.Num == math.Trunc(v.Num) && math.Abs(v.Num) < 1e15:
		return strconv.FormatFloat(v.Num, 'f', 0, 64)
	}
	return results.FormatStat(v.Num)
}

// asset serves one embedded file under a fixed name.
func asset(name, contentType string) http.HandlerFunc {
	data, err := staticFS.ReadFile("static/" + name)
	if err != nil {
		panic(err)
	}
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Cache-Control", "no-cache")
		w.Write(data)
	}
}

// render executes a page into a buffer first, so that a template error
// is a clean 500.
func (s *Server) render(w http.ResponseWriter, status int, page, title string, data any) {
	var buf bytes.Buffer
	err := pages[page].Execute(&buf, map[string]any{"Title": title, "Live": s.live != nil, "CSRF": s.guard.csrf,
		"Token": s.guard.token != "", "Page": page, "Data": data})
	if err != nil {
		s.log.Error("render", "page", page, "err", err)
		http.Error(w, fmt.Sprintf("render %s: %v", page, err), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'")
	w.Header().Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}
