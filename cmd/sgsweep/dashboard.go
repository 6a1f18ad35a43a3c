package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/sgsweep/sgsweep/dashboard"
	"github.com/sgsweep/sgsweep/internal/httpserve"
	"github.com/sgsweep/sgsweep/results/store"
)

func init() { commands = append(commands, dashboardCommand) }

// httpFlags are the dashboard's flags (coordinator, run, dashboard); def
// is --http's default ("" for off).
func httpFlags(def string) []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "http", Value: def,
			Usage: "serve the web dashboard and /metrics on `HOST:PORT` (port 0: random); any address but " +
				"loopback needs --http-token", EnvVars: []string{"SGSWEEP_HTTP"}},
		&cli.StringFlag{Name: "http-token", Usage: "the dashboard's access `TOKEN`, required on every request " +
			"(Authorization: Bearer, or the login page)", EnvVars: []string{dashboard.TokenEnv}},
	}
}

func dashboardCommand() *cli.Command {
	return &cli.Command{
		Name:  "dashboard",
		Usage: "serve the web dashboard of a store read-only, with no coordinator (browse finished studies)",
		Description: "Opens the store of --data-dir read-only and serves the dashboard on --http: the sweeps, each\n" +
			"sweep's results table (the query of `sgsweep results`), figures (those of `sgsweep plot`, as SVG),\n" +
			"export downloads, each task's parameters, provenance and curves, and /metrics. While a coordinator\n" +
			"holds the store, use its own dashboard instead: `sgsweep coordinator --http ADDR`.",
		Flags:  append([]cli.Flag{dataDirFlag()}, httpFlags("127.0.0.1:8080")...),
		Action: runDashboard,
	}
}

func runDashboard(c *cli.Context) error {
	if c.NArg() != 0 {
		return usageError{fmt.Errorf("dashboard takes no arguments, got %q", c.Args().Slice())}
	}
	log, err := newLogger(c)
	if err != nil {
		return usageError{err}
	}
	if err := dashboard.CheckAddr(c.String("http"), c.String("http-token")); err != nil {
		return usageError{fmt.Errorf("--http: %w", err)}
	}
	path := dataDirOf(c).statePath()
	st, err := store.Open(path, &store.Options{ReadOnly: true, Timeout: 2 * time.Second})
	if errors.Is(err, store.ErrLocked) {
		return fmt.Errorf("a coordinator holds %s: open its dashboard (sgsweep coordinator --http ADDR): %w", path, err)
	}
	if err != nil {
		return err
	}
	defer st.Close()
	stop, err := startDashboard(c, log, dashboard.StoreSource(st), nil)
	if err != nil {
		return err
	}
	<-c.Context.Done()
	return stop()
}

// startDashboard listens on --http (a usage error if the address needs a
// token and has none), says where, and serves until the command's context
// ends or stop is called; stop waits for the server and returns its
// error. With --http empty it does nothing.
func startDashboard(c *cli.Context, log *slog.Logger, src dashboard.Source, live dashboard.Live) (stop func() error, err error) {
	addr := c.String("http")
	if addr == "" {
		return func() error { return nil }, nil
	}
	token := c.String("http-token")
	if err := dashboard.CheckAddr(addr, token); err != nil {
		return nil, usageError{fmt.Errorf("--http: %w", err)}
	}
	srv, err := dashboard.New(src, live, dashboard.Options{Token: token, Logger: log})
	if err != nil {
		return nil, err
	}
	ln, err := dashboard.Listen(addr, token)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(c.App.ErrWriter, "dashboard: %s\n", httpserve.URL(ln))
	ctx, cancel := context.WithCancel(c.Context)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	return func() error {
		cancel()
		return <-done
	}, nil
}
