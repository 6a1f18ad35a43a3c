package dashboard

import (
	"context"
	"log/slog"
	"net"
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sgsweep/sgsweep/internal/httpserve"
)

// Options configure a Server.
type Options struct {
	// Token, if set, is required on every request (see the package
	// documentation); a non-loopback address requires one.
	Token string
	// Logger receives the server's logs; nil discards them.
	Logger *slog.Logger
}

// Server is the dashboard: its pages, event streams and metrics.
type Server struct {
	src     Source
	live    Live // nil: a read-only store
	guard   *guard
	hub     *hub
	metrics *metrics
	log     *slog.Logger
	handler http.Handler
}

// New returns a dashboard over src; live is the running coordinator, or nil
// to serve a store read-only (no live updates, no actions).
func New(src Source, live Live, opts Options) (*Server, error) {
	g, err := newGuard(opts.Token)
	if err != nil {
		return nil, err
	}
	s := &Server{src: src, live: live, guard: g, log: opts.Logger}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.hub = newHub()
	s.metrics = newMetrics(src, s.hub)
	s.hub.metrics = s.metrics
	s.handler = g.wrap(s.routes())
	return s, nil
}

// routes maps the server's paths; every path is fixed or names a sweep or
// task, never a file.
func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.sweepsPage)
	mux.HandleFunc("GET /sweeps/{sweep}", s.sweepPage)
	mux.HandleFunc("GET /sweeps/{sweep}/tasks/{task}", s.taskPage)
	mux.HandleFunc("GET /sweeps/{sweep}/{file}", s.file)
	mux.HandleFunc("POST /sweeps/{sweep}/{action}", s.action)
	mux.HandleFunc("GET /events", s.events)
	mux.HandleFunc("GET /login", s.login)
	mux.HandleFunc("POST /login", s.login)
	mux.HandleFunc("GET /static/app.js", asset("app.js", "text/javascript; charset=utf-8"))
	mux.HandleFunc("GET /static/app.css", asset("app.css", "text/css; charset=utf-8"))
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}))
	return mux
}

// Handler returns the server's HTTP handler (every check included).
func (s *Server) Handler() http.Handler { return s.handler }

// Listen checks the address (a non-loopback one needs a token) and
// listens on it.
func Listen(addr, token string) (net.Listener, error) { return exposure.Listen(addr, token) }

// Serve follows the coordinator's events (if live) and serves on ln until
// ctx is done; then it closes the event streams and waits a few seconds
// for the requests in flight (httpserve.Serve).
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if s.live != nil {
		events, stop := s.live.Subscribe(eventBuffer)
		defer stop()
		go s.hub.run(ctx, events)
	}
	return httpserve.Serve(ctx, ln, s.handler)
}
