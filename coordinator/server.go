package coordinator

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/sgsweep/sgsweep/internal/httpserve"
)

// ServerOptions configures an embedded NATS server with JetStream: the
// single-machine default of `sgsweep run` and `sgsweep coordinator`.
type ServerOptions struct {
	// StoreDir is the JetStream storage directory's parent (data goes to
	// StoreDir/jetstream). Required: a temporary store would lose the
	// queue on reboot.
	StoreDir string
	// Host and Port are the client listener; Host "" means 127.0.0.1 and
	// Port 0 a random free port.
	Host string
	Port int
	// Token, if set, is required from clients. It cannot be combined with
	// Credentials.
	Token string
	// Credentials, if set, are the only identities the server admits: one
	// nkey user per role with its permissions (see Role).
	Credentials *Credentials
	// TLSCert and TLSKey are the server's certificate and key files (PEM);
	// with them every client connection must use TLS.
	TLSCert, TLSKey string
	// Insecure allows a listener beyond loopback without TLS. Without it,
	// StartServer refuses a non-loopback Host unless TLSCert is set: the
	// credentials would cross the network in clear.
	Insecure bool
	// SyncAlways fsyncs every stored message before acknowledging it, so a
	// machine crash loses no acknowledged task or result; without it,
	// acknowledged data of the last two minutes can be lost (process
	// crashes lose nothing either way).
	SyncAlways bool
	// Name is the server name (default "sgsweep").
	Name string
	// Logger receives the server's notices, warnings and errors; nil
	// silences it.
	Logger *slog.Logger
}

// Server is a running embedded NATS server.
type Server struct {
	*server.Server
	// URL is the client URL (nats://host:port).
	URL string
}

// StartServer starts an embedded NATS server with JetStream and waits until
// it accepts clients.
func StartServer(o ServerOptions) (*Server, error) {
	if o.StoreDir == "" {
		return nil, errors.New("embedded NATS server: no store dir")
	}
	if o.Host == "" {
		o.Host = "127.0.0.1"
	}
	if (o.TLSCert == "") != (o.TLSKey == "") {
		return nil, errors.New("embedded NATS server: the TLS certificate and key go together")
	}
	if o.TLSCert == "" && !o.Insecure && !httpserve.LoopbackHost(o.Host) {
		return nil, fmt.Errorf("embedded NATS server: refusing to listen on %s without TLS: credentials and results "+
			"would cross the network in clear; give a certificate and key (--tls-cert, --tls-key), or pass "+
			"--insecure on a network you trust", o.Host)
	}
	if o.Token != "" && o.Credentials != nil {
		return nil, errors.New("embedded NATS server: a token and per-role credentials exclude each other")
	}
	port := o.Port
	if port == 0 {
		port = server.RANDOM_PORT
	}
	if o.Name == "" {
		o.Name = "sgsweep"
	}
	opts := &server.Options{
		ServerName:    o.Name,
		Host:          o.Host,
		Port:          port,
		JetStream:     true,
		StoreDir:      o.StoreDir,
		Authorization: o.Token,
		SyncAlways:    o.SyncAlways,
		NoSigs:        true,
		NoLog:         o.Logger == nil,
		// Clients hold no state on the server: a quick restart is fine.
		LameDuckDuration: 0,
	}
	if o.Credentials != nil {
		users, err := o.Credentials.Users()
		if err != nil {
			return nil, fmt.Errorf("embedded NATS server: %w", err)
		}
		opts.Nkeys = users
	}
	if o.TLSCert != "" {
		tc, err := server.GenTLSConfig(&server.TLSConfigOpts{CertFile: o.TLSCert, KeyFile: o.TLSKey})
		if err != nil {
			return nil, fmt.Errorf("embedded NATS server: TLS: %w", err)
		}
		opts.TLSConfig, opts.TLS = tc, true
		opts.TLSTimeout = 5
	}
	s, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("embedded NATS server: %w", err)
	}
	if o.Logger != nil {
		s.SetLoggerV2(&serverLogger{o.Logger.With("component", "nats-server")}, false, false, false)
	}
	go s.Start()
	if !s.ReadyForConnections(15 * time.Second) {
		s.Shutdown()
		return nil, errors.New("embedded NATS server: not ready after 15s (is the port in use?)")
	}
	return &Server{Server: s, URL: s.ClientURL()}, nil
}

// Stop shuts the server down and waits for it.
func (s *Server) Stop() {
	s.Shutdown()
	s.WaitForShutdown()
}

// serverLogger adapts slog to the server's logger interface.
type serverLogger struct{ log *slog.Logger }

func (l *serverLogger) Noticef(format string, v ...any) { l.log.Debug(fmt.Sprintf(format, v...)) }
func (l *serverLogger) Warnf(format string, v ...any)   { l.log.Warn(fmt.Sprintf(format, v...)) }
func (l *serverLogger) Fatalf(format string, v ...any)  { l.log.Error(fmt.Sprintf(format, v...)) }
func (l *serverLogger) Errorf(format string, v ...any)  { l.log.Error(fmt.Sprintf(format, v...)) }
func (l *serverLogger) Debugf(format string, v ...any)  { l.log.Debug(fmt.Sprintf(format, v...)) }
func (l *serverLogger) Tracef(format string, v ...any)  { l.log.Debug(fmt.Sprintf(format, v...)) }
