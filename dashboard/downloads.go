package dashboard

import (
	"bytes"
	"context"
	"errors"
	"mime"
	"net/http"
	"strings"

	"github.com/sgsweep/sgsweep/coordinator"
	"github.com/sgsweep/sgsweep/results"
	"github.com/sgsweep/sgsweep/results/plot"
)

// file serves a sweep's figure.svg, table.csv, table.json, export.csv
// and export.jsonl: generated, never read from disk.
func (s *Server) file(w http.ResponseWriter, r *http.Request) {
	switch base, format, _ := strings.Cut(r.PathValue("file"), "."); base {
	case "figure":
		if format == "svg" {
			s.figure(w, r)
			return
		}
	case "table":
		if format == "html" {
			s.tableHTML(w, r)
		} else {
			s.table(w, r, format)
		}
		return
	case "export":
		s.export(w, r, format)
		return
	}
	http.NotFound(w, r)
}

// figure draws the figure the query asks for (the options of `sgsweep
// plot`) as SVG, with plot.Make on the source's queries.
func (s *Server) figure(w http.ResponseWriter, r *http.Request) {
	preq := figureFormOf(r.URL.Query(), "").request(r.PathValue("sweep"))
	if err := preq.ValidateDefault(); err != nil {
		s.fail(w, err, http.StatusBadRequest)
		return
	}
	fig, err := makeFigure(r.Context(), s.src, preq)
	if err != nil {
		s.fail(w, err, http.StatusBadRequest)
		return
	}
	var buf bytes.Buffer
	if err := fig.Write(&buf, "svg"); err != nil {
		s.fail(w, err, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.Write(buf.Bytes())
}

// makeFigure draws the figure a request asks for; without a kind, the
// default one (see defaultFigure).
func makeFigure(ctx context.Context, src Source, preq plotRequest) (*plot.Figure, error) {
	req := plot.Request(preq)
	if req.Kind == "" {
		tab, err := results.RunQuery(ctx, src, results.QueryRequest{Sweep: req.Sweep, Where: req.Where, Aggs: []string{"n"}})
		if err != nil {
			return nil, err
		}
		if !defaultFigure(&req, tab) {
			return nil, errors.New("no parameter varies in this sweep: choose a figure")
		}
	} else if err := req.Validate(); err != nil {
		return nil, err
	}
	return plot.Make(ctx, plot.SourceQuerier(src), req)
}

// table writes the results table of the query (the flags of `sgsweep
// results`) as CSV or JSON: the same Table.Write as the CLI.
func (s *Server) table(w http.ResponseWriter, r *http.Request, format string) {
	name := r.PathValue("sweep")
	if format != results.FormatCSV && format != results.FormatJSON {
		http.Error(w, "table formats: csv, json", http.StatusNotFound)
		return
	}
	req := tableFormOf(r.URL.Query()).request(name)
	if err := req.Validate(); err != nil {
		s.fail(w, err, http.StatusBadRequest)
		return
	}
	tab, err := results.RunQuery(r.Context(), s.src, req)
	if err != nil {
		s.fail(w, err, http.StatusBadRequest)
		return
	}
	var buf bytes.Buffer
	if err := tab.Write(&buf, format); err != nil {
		s.fail(w, err, http.StatusInternalServerError)
		return
	}
	contentType := map[string]string{results.FormatCSV: "text/csv; charset=utf-8", results.FormatJSON: "application/json"}[format]
	download(w, contentType, name+"-results."+format)
	w.Write(buf.Bytes())
}

// tableHTML renders the results table of the query as an HTML fragment:
// the sweep page's script inserts it, and without script it is a page of
// its own. A bad query is the fragment's error message.
func (s *Server) tableHTML(w http.ResponseWriter, r *http.Request) {
	req := tableFormOf(r.URL.Query()).request(r.PathValue("sweep"))
	status, data := http.StatusOK, map[string]any{}
	if err := req.Validate(); err != nil {
		status, data["Err"] = http.StatusBadRequest, err.Error()
	} else if tab, err := results.RunQuery(r.Context(), s.src, req); err != nil {
		status, data["Err"] = http.StatusBadRequest, err.Error()
	} else {
		data["Table"] = tab
	}
	var buf bytes.Buffer
	if err := fragment.Execute(&buf, data); err != nil {
		s.fail(w, err, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// export streams the sweep's tasks as CSV or JSON Lines (results.Export,
// as `sgsweep export`): one record in memory at a time.
func (s *Server) export(w http.ResponseWriter, r *http.Request, format string) {
	name := r.PathValue("sweep")
	opts := results.ExportOptions{Format: format, Curves: r.URL.Query().Get("curves") != "",
		Where: lines(r.URL.Query().Get("where"))}
	if format != results.ExportCSV && format != results.ExportJSONL {
		http.Error(w, "export formats: csv, jsonl", http.StatusNotFound)
		return
	}
	if _, err := results.ParseFilter(opts.Where, 0); err != nil {
		s.fail(w, err, http.StatusBadRequest)
		return
	}
	if _, err := s.src.Status(r.Context(), name); err != nil {
		s.fail(w, err, http.StatusInternalServerError)
		return
	}
	contentType := map[string]string{results.ExportCSV: "text/csv; charset=utf-8", results.ExportJSONL: "application/x-ndjson"}[format]
	file := name + "." + format
	if opts.Curves {
		file = name + "-curves." + format
	}
	download(w, contentType, file)
	if _, err := results.Export(r.Context(), s.src, name, w, opts); err != nil {
		// The header is sent: the truncated body is all we can say.
		s.log.Warn("export interrupted", "sweep", name, "err", err)
	}
}

// download sets the headers of a file to save.
func download(w http.ResponseWriter, contentType, file string) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": file}))
}

// action runs cancel or retry on the coordinator (POST, token, CSRF
// token), then shows the sweep again.
func (s *Server) action(w http.ResponseWriter, r *http.Request) {
	name, act := r.PathValue("sweep"), r.PathValue("action")
	if act != "cancel" && act != "retry" {
		http.NotFound(w, r)
		return
	}
	if s.live == nil {
		http.Error(w, "this dashboard serves a store read-only: no coordinator to "+act, http.StatusConflict)
		return
	}
	if !s.guard.checkAction(r) {
		http.Error(w, "missing or wrong CSRF token: use the button on the sweep's page", http.StatusForbidden)
		return
	}
	var err error
	switch act {
	case "cancel":
		_, err = s.live.Cancel(r.Context(), coordinator.CancelRequest{Sweep: name})
	case "retry":
		_, err = s.live.Retry(r.Context(), coordinator.RetryRequest{Sweep: name})
	}
	if err != nil {
		s.fail(w, err, http.StatusInternalServerError)
		return
	}
	s.log.Info("dashboard action", "action", act, "sweep", name, "remote", r.RemoteAddr)
	s.hub.wake(name)
	http.Redirect(w, r, s.sweepURL(name, "", nil), http.StatusSeeOther)
}
