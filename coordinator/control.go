package coordinator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/micro"

	"github.com/sgsweep/sgsweep/protocol"
	"github.com/sgsweep/sgsweep/results"
)

// Control endpoints, under protocol.ControlPrefix (sgsweep.ctl.<endpoint>).
const (
	EndpointSubmit  = "submit"
	EndpointStatus  = "status"
	EndpointCancel  = "cancel"
	EndpointRetry   = "retry"
	EndpointResults = "results"
)

// Error codes of control replies (HTTP-like).
const (
	codeBadRequest = "400"
	codeNotFound   = "404"
	codeConflict   = "409"
	codeInternal   = "500"
)

// serve starts the control service: request/reply JSON over NATS micro. To
// add an endpoint, add one line here with a method
// func(context.Context, Req) (Resp, error).
func (c *Coordinator) serve(ctx context.Context) (micro.Service, error) {
	svc, err := micro.AddService(c.nc, micro.Config{
		Name:        protocol.ControlService,
		Version:     "1.0.0",
		Description: "sgsweep coordinator: submit, status, cancel and retry sweeps; query results",
	})
	if err != nil {
		return nil, fmt.Errorf("control service: %w", err)
	}
	g := svc.AddGroup(protocol.ControlPrefix)
	endpoints := []struct {
		name    string
		handler micro.Handler
	}{
		{EndpointSubmit, handle(ctx, c.Submit)},
		{EndpointStatus, handle(ctx, c.Status)},
		{EndpointCancel, handle(ctx, c.Cancel)},
		{EndpointRetry, handle(ctx, c.Retry)},
		{EndpointResults, handle(ctx, c.Results)},
		{EndpointPreview, handle(ctx, c.Preview)},
		{EndpointSnapshot, handle(ctx, c.Snapshot)},
		{protocol.EndpointHasResult, handle(ctx, c.HasResult)},
	}
	for _, ep := range endpoints {
		if err := g.AddEndpoint(ep.name, ep.handler); err != nil {
			svc.Stop()
			return nil, fmt.Errorf("control endpoint %s: %w", ep.name, err)
		}
	}
	// The server should hold the endpoints' subscriptions before Run
	// reports ready, so that a client asking at once gets an answer, not "no
	// responders". A failed flush is not fatal: the connection sends the
	// subscriptions again when it reconnects.
	fctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := c.nc.FlushWithContext(fctx); err != nil {
		c.log.Warn("control service: the server has not confirmed its subscriptions yet", "err", err)
	}
	return svc, nil
}

// handle adapts a typed method to a micro handler: the request body is
// decoded into Req, the reply encoded from Resp, and an error sent as a
// service error whose body is an errorBody.
func handle[Req, Resp any](ctx context.Context, fn func(context.Context, Req) (Resp, error)) micro.Handler {
	return micro.HandlerFunc(func(r micro.Request) {
		var req Req
		if len(r.Data()) > 0 {
			if err := json.Unmarshal(r.Data(), &req); err != nil {
				respondError(r, badRequest(fmt.Errorf("decode request: %w", err)))
				return
			}
		}
		resp, err := fn(ctx, req)
		if err != nil {
			respondError(r, err)
			return
		}
		if err := r.RespondJSON(resp); err != nil {
			respondError(r, err)
		}
	})
}

// errorBody is the body of an error reply. The description header holds the
// first line only (headers cannot hold line breaks).
type errorBody struct {
	Code  string `json:"code"`
	Error string `json:"error"`
}

func respondError(r micro.Request, err error) {
	code := errorCode(err)
	body, _ := json.Marshal(errorBody{Code: code, Error: err.Error()})
	first, _, _ := strings.Cut(err.Error(), "\n")
	r.Error(code, first, body)
}

// requestError marks an error caused by the request (an invalid spec).
type requestError struct{ err error }

func (e *requestError) Error() string { return e.err.Error() }
func (e *requestError) Unwrap() error { return e.err }

func badRequest(err error) error { return &requestError{err} }

func errorCode(err error) string {
	var re *requestError
	switch {
	case errors.Is(err, results.ErrNotFound):
		return codeNotFound
	case errors.Is(err, ErrSpecChanged):
		return codeConflict
	case errors.As(err, &re):
		return codeBadRequest
	default:
		return codeInternal
	}
}
