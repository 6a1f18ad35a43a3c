package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/sgsweep/sgsweep/coordinator"
)

// controlTimeout bounds a control request (planning a large sweep included).
const controlTimeout = 2 * time.Minute

// askCoordinator dials the running coordinator and sends it one control
// request with call (a coordinator.Client method such as
// (*coordinator.Client).Cancel), bounded by controlTimeout. A missing
// coordinator, at the dial or in the reply, becomes advice (see
// noCoordinator).
func askCoordinator[Req, Rep any](c *cli.Context, log *slog.Logger,
	call func(*coordinator.Client, context.Context, Req) (Rep, error), req Req) (Rep, error) {
	var zero Rep
	client, nc, err := dialCoordinator(c, log)
	if err != nil {
		return zero, noCoordinator(err)
	}
	defer nc.Close()
	ctx, cancel := context.WithTimeout(c.Context, controlTimeout)
	defer cancel()
	rep, err := call(client, ctx, req)
	if err != nil {
		return zero, noCoordinator(err)
	}
	return rep, nil
}

// noCoordinator turns ErrNoCoordinator into advice; other errors pass.
func noCoordinator(err error) error {
	if errors.Is(err, coordinator.ErrNoCoordinator) {
		return fmt.Errorf("%w: start one with `sgsweep coordinator` (or `sgsweep run`), or point --nats/--data-dir at it", err)
	}
	return err
}
