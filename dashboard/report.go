package dashboard

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"io"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/sgsweep/sgsweep/coordinator"
	"github.com/sgsweep/sgsweep/results"
)

// ReportOptions say what a report holds besides the sweep's counts and
// provenance.
type ReportOptions struct {
	// Query is the results table (default: every grid cell, test_acc).
	Query results.QueryRequest
	// Figures are figure.svg's queries (kind=line&x=surrogate.scale&…,
	// the options of `sgsweep plot`); none means the default figure.
	Figures []string
}

// reportView is the report's data.
type reportView struct {
	Sweep      string
	Generated  time.Time
	Status     *coordinator.SweepStatus
	Table      *results.Table
	Err        string // unused: the table fragment's error slot
	Figures    []reportFigure
	Provenance provenance
	CSS        template.CSS
	// SpecName and Spec are the spec file as submitted, if the source
	// keeps it.
	SpecName, Spec string
}

// specSource is a Source that keeps the sweeps' spec files (the store
// does).
type specSource interface {
	SweepSpec(ctx context.Context, name string) (canonical []byte, sourceName string, source []byte, err error)
}

type reportFigure struct {
	Query string
	SVG   template.HTML
	Notes []string
}

// provenance summarises who computed a sweep's results and when.
type provenance struct {
	Models, Builds, Hosts []string
	First, Last           time.Time
	Results               int
}

// WriteReport writes a self-contained HTML report of one sweep to w: its
// counts, spec, the results table of opts.Query, the figures of opts.Figures as
// inline SVG and the provenance summary, with the dashboard's templates and
// style inlined (no external asset, no script).
func WriteReport(ctx context.Context, src Source, sweep string, opts ReportOptions, w io.Writer) error {
	st, err := src.Status(ctx, sweep)
	if err != nil {
		return err
	}
	v := &reportView{Sweep: sweep, Generated: time.Now().UTC(), Status: &st.Sweeps[0]}
	css, _ := staticFS.ReadFile("static/app.css")
	v.CSS = template.CSS(css)
	opts.Query.Sweep = sweep
	if err := opts.Query.Validate(); err != nil {
		return err
	}
	if v.Table, err = results.RunQuery(ctx, src, opts.Query); err != nil {
		return err
	}
	figures := opts.Figures
	if len(figures) == 0 {
		figures = []string{""}
	}
	for _, q := range figures {
		f, err := reportFigureOf(ctx, src, sweep, q)
		if err != nil {
			return fmt.Errorf("figure %q: %w", q, err)
		}
		v.Figures = append(v.Figures, *f)
	}
	if ss, ok := src.(specSource); ok {
		if _, name, text, err := ss.SweepSpec(ctx, sweep); err == nil {
			v.SpecName, v.Spec = name, string(text)
		}
	}
	if v.Provenance, err = provenanceOf(ctx, src, sweep); err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := reportPage.Execute(&buf, v); err != nil {
		return err
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// reportFigureOf draws one figure (figure.svg's query) as inline SVG.
func reportFigureOf(ctx context.Context, src Source, sweep, query string) (*reportFigure, error) {
	vals, err := url.ParseQuery(query)
	if err != nil {
		return nil, err
	}
	fig, err := makeFigure(ctx, src, figureFormOf(vals, "").request(sweep))
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := fig.Write(&buf, "svg"); err != nil {
		return nil, err
	}
	svg := buf.String()
	if i := strings.Index(svg, "<svg"); i >= 0 {
		svg = svg[i:] // inline: no XML declaration
	}
	return &reportFigure{Query: query, SVG: template.HTML(svg), Notes: fig.Notes}, nil
}

// provenanceOf walks the sweep's records once.
func provenanceOf(ctx context.Context, src Source, sweep string) (provenance, error) {
	var p provenance
	add := func(list *[]string, s string) {
		if s != "" && !slices.Contains(*list, s) && len(*list) < 20 {
			*list = append(*list, s)
		}
	}
	err := src.Records(ctx, sweep, func(r *results.Record) error {
		if r.Result == nil {
			return nil
		}
		pr := r.Result.Provenance
		p.Results++
		add(&p.Models, pr.ModelVersion)
		add(&p.Builds, pr.Build.String())
		add(&p.Hosts, pr.Host)
		if !pr.StartedAt.IsZero() && (p.First.IsZero() || pr.StartedAt.Before(p.First)) {
			p.First = pr.StartedAt
		}
		if pr.FinishedAt.After(p.Last) {
			p.Last = pr.FinishedAt
		}
		return nil
	})
	return p, err
}
