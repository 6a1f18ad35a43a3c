// Package httpserve keeps the rules every sgsweep HTTP server follows (the
// coordinator's dashboard and a worker's /metrics): it listens on loopback
// unless it has a token; with a token, every request must carry it; without
// one, it answers only requests addressed to a loopback host name (no DNS
// rebinding); and it stops within a bounded time when its context ends.
package httpserve

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"
)

// shutdownGrace bounds the wait for requests in flight once Serve's context
// ends.
const shutdownGrace = 5 * time.Second

// IsLoopback reports whether the listen address addr (host:port) binds
// loopback only: localhost, 127.0.0.0/8 or ::1. An empty host binds every
// interface.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	return LoopbackHost(host)
}

// LoopbackHost reports whether host (a name or an address, without a port)
// is localhost or a loopback address.
func LoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Exposure names a server in CheckAddr's refusal.
type Exposure struct {
	// What names the address: "dashboard address".
	What string
	// Could says what anyone who reaches the server could do: "watch and
	// cancel sweeps".
	Could string
	// TokenHint says how to set a token: "--http-token or
	// SGSWEEP_HTTP_TOKEN".
	TokenHint string
}

// CheckAddr refuses a listen address that is not host:port, and a
// non-loopback one without a token, saying why and how to set a token.
func (e Exposure) CheckAddr(addr, token string) error {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return fmt.Errorf("%s %q: %w", e.What, addr, err)
	}
	if token == "" && !IsLoopback(addr) {
		return fmt.Errorf("%s %s is not loopback: anyone who can reach it could %s; set a token with %s "+
			"(or listen on 127.0.0.1)", e.What, addr, e.Could, e.TokenHint)
	}
	return nil
}

// Listen checks the address with CheckAddr and listens on it.
func (e Exposure) Listen(addr, token string) (net.Listener, error) {
	if err := e.CheckAddr(addr, token); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", e.What, err)
	}
	return ln, nil
}

// URL is the base address a client uses for a listener, ending in "/".
func URL(ln net.Listener) string {
	addr := ln.Addr().(*net.TCPAddr)
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, fmt.Sprint(addr.Port)) + "/"
}

// Equal compares two secrets in constant time.
func Equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// HasBearer reports whether the request carries token as
// "Authorization: Bearer TOKEN"; token must not be empty.
func HasBearer(r *http.Request, token string) bool {
	auth, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && Equal(auth, token)
}

// ToLoopbackHost reports whether the request is addressed (its Host) to a
// loopback host name.
func ToLoopbackHost(r *http.Request) bool {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return LoopbackHost(strings.Trim(host, "[]"))
}

// MisdirectedText is the answer, with http.StatusMisdirectedRequest, to a
// request addressed to another host name than loopback when there is no
// token.
const MisdirectedText = "without a token this server answers to loopback host names only"

// RequireToken serves next to requests that carry the bearer token, or,
// with no token, to requests addressed to a loopback host name; the others
// get 401 (with a token) or 421 (without).
func RequireToken(token string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case token == "" && !ToLoopbackHost(r):
			http.Error(w, MisdirectedText, http.StatusMisdirectedRequest)
		case token != "" && !HasBearer(r, token):
			w.Header().Set("WWW-Authenticate", `Bearer realm="sgsweep"`)
			http.Error(w, "token required", http.StatusUnauthorized)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// Serve serves h on ln until ctx is done, then waits at most a few seconds
// for the requests in flight (their contexts derive from ctx, so streams
// end) and returns nil; it returns earlier with the server's error.
func Serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second,
		BaseContext: func(net.Listener) context.Context { return ctx }}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
