package dashboard

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/sgsweep/sgsweep/coordinator"
	"github.com/sgsweep/sgsweep/results"
)

// fail answers an error: 404 for an unknown sweep or task, 400 for a bad
// request, else 500.
func (s *Server) fail(w http.ResponseWriter, err error, status int) {
	if errors.Is(err, results.ErrNotFound) {
		status = http.StatusNotFound
	}
	if status == http.StatusInternalServerError {
		s.log.Error("dashboard request", "err", err)
	}
	http.Error(w, err.Error(), status)
}

// sweepsPage lists every sweep with its counts, progress, rate and ETA.
func (s *Server) sweepsPage(w http.ResponseWriter, r *http.Request) {
	st, err := s.src.Status(r.Context(), "")
	if err != nil {
		s.fail(w, err, http.StatusInternalServerError)
		return
	}
	s.render(w, http.StatusOK, "sweeps", "sweeps", st)
}

// sweepView is the sweep page's data.
type sweepView struct {
	Sweep    coordinator.SweepStatus
	Status   *coordinator.Status
	Running  []RunningTask
	Form     tableForm
	Fig      figureForm
	QueryErr string
	FigErr   string
	// Links: the figure, the table's downloads, the exports.
	FigureURL, TableHTML, TableCSV, TableJSON, ExportCSV, ExportJSONL, CurvesCSV string
}

// sweepPage shows one sweep: progress, running tasks, failures, the
// query and figure forms, and links to the table, figure and downloads.
func (s *Server) sweepPage(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("sweep")
	st, err := s.src.Status(r.Context(), name)
	if err != nil {
		s.fail(w, err, http.StatusInternalServerError)
		return
	}
	q := r.URL.Query()
	v := &sweepView{Sweep: st.Sweeps[0], Status: st, Running: s.hub.Running(name), Form: tableFormOf(q)}
	req := v.Form.request(name)
	if err := req.Validate(); err != nil {
		v.QueryErr = err.Error()
	}
	// The table and the figure are separate requests (the page's script
	// fetches the table; the figure is an image), so that the page itself
	// answers at once whatever the size of the sweep.
	v.Fig = figureFormOf(q, "fig-")
	if err := v.Fig.request(name).ValidateDefault(); err != nil {
		v.FigErr = err.Error()
	} else {
		v.FigureURL = s.sweepURL(name, "figure.svg", v.Fig.values())
	}
	tv := v.Form.values()
	v.TableHTML = s.sweepURL(name, "table.html", tv)
	v.TableCSV, v.TableJSON = s.sweepURL(name, "table.csv", tv), s.sweepURL(name, "table.json", tv)
	ev := url.Values{"where": req.Where}
	v.ExportCSV, v.ExportJSONL = s.sweepURL(name, "export.csv", ev), s.sweepURL(name, "export.jsonl", ev)
	ev.Set("curves", "1")
	v.CurvesCSV = s.sweepURL(name, "export.csv", ev)
	s.render(w, http.StatusOK, "sweep", name, v)
}

// sweepURL is the path of a sweep's sub-resource with a query.
func (s *Server) sweepURL(sweep, leaf string, v url.Values) string {
	u := "/sweeps/" + url.PathEscape(sweep)
	if leaf != "" {
		u += "/" + leaf
	}
	if len(v) > 0 {
		u += "?" + v.Encode()
	}
	return u
}

// taskView is the task page's data.
type taskView struct {
	Sweep   string
	Rec     *results.Record
	Params  string
	Running *RunningTask
	Curves  []curve
	// Stop is the task's stop decision, nil without one.
	Stop *stopView
}

// taskPage shows one task: parameters, state, attempts and error, its
// stop decision, provenance, final metrics and curves, and its live
// progress if running.
func (s *Server) taskPage(w http.ResponseWriter, r *http.Request) {
	name, id := r.PathValue("sweep"), r.PathValue("task")
	rec, err := findRecord(r.Context(), s.src, name, id)
	if err != nil {
		s.fail(w, err, http.StatusInternalServerError)
		return
	}
	v := &taskView{Sweep: name, Rec: rec, Running: s.hub.runningTask(id), Stop: stopViewOf(rec)}
	var pretty bytes.Buffer
	if json.Indent(&pretty, rec.Params, "", "  ") == nil {
		v.Params = pretty.String()
	}
	if rec.Result != nil && rec.Result.Result != nil {
		v.Curves = curvesOf(rec.Result.Result.Epochs)
	} else if v.Running != nil {
		v.Curves = []curve{newCurve("val_acc (live)", v.Running.Curve)}
	}
	s.render(w, http.StatusOK, "task", strings.Join([]string{name, shortID(id)}, " / "), v)
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
