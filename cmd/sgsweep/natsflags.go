package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/urfave/cli/v2"

	"github.com/sgsweep/sgsweep/coordinator"
	"github.com/sgsweep/sgsweep/internal/retry"
)

// natsFlags are the connection flags of every command that talks to NATS.
// Secrets are best passed in the environment or in files, not on the command
// line (visible in ps).
func natsFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "nats", Usage: "NATS server `URLS`, comma-separated; default: the embedded server of " +
			"--data-dir (its address is in nats.json)", EnvVars: []string{"SGSWEEP_NATS", "NATS_URL"}},
		&cli.StringFlag{Name: "nats-creds", Usage: "NATS credentials `FILE` (user JWT and nkey seed)",
			EnvVars: []string{"SGSWEEP_NATS_CREDS", "NATS_CREDS"}},
		&cli.StringFlag{Name: "nats-nkey", Usage: "NATS nkey seed `FILE`, mode 0600 (the embedded server's, per role: " +
			"DATA_DIR/credentials/ROLE.nk, used by default with --data-dir)", EnvVars: []string{"SGSWEEP_NATS_NKEY", "NATS_NKEY"}},
		&cli.StringFlag{Name: "nats-user", Usage: "NATS user name", EnvVars: []string{"SGSWEEP_NATS_USER", "NATS_USER"}},
		&cli.StringFlag{Name: "nats-password", Usage: "NATS password", EnvVars: []string{"SGSWEEP_NATS_PASSWORD", "NATS_PASSWORD"}},
		&cli.StringFlag{Name: "nats-token", Usage: "NATS token of an external server (the embedded one admits per-role nkeys only)",
			EnvVars: []string{"SGSWEEP_NATS_TOKEN", "NATS_TOKEN"}},
		&cli.StringFlag{Name: "tls-ca", Usage: "CA certificate `FILE` to verify the NATS server",
			EnvVars: []string{"SGSWEEP_TLS_CA", "NATS_CA"}},
		&cli.StringFlag{Name: "tls-cert", Usage: "client certificate `FILE` (with --tls-key); coordinator with the embedded " +
			"server: the server's certificate",
			EnvVars: []string{"SGSWEEP_TLS_CERT", "NATS_CERT"}},
		&cli.StringFlag{Name: "tls-key", Usage: "client key `FILE` (with --tls-cert)", EnvVars: []string{"SGSWEEP_TLS_KEY", "NATS_KEY"}},
	}
}

// natsSettings is how to reach and authenticate to NATS.
type natsSettings struct {
	URLs                               string
	Creds, NKey, User, Password, Token string
	TLSCA, TLSCert, TLSKey             string
	connectTimeout                     time.Duration
	// reconnectMax caps the reconnection back-off.
	reconnectMax time.Duration
}

// natsSettingsOf reads the connection flags.
func natsSettingsOf(c *cli.Context) natsSettings {
	return natsSettings{
		URLs:           c.String("nats"),
		Creds:          c.String("nats-creds"),
		NKey:           c.String("nats-nkey"),
		User:           c.String("nats-user"),
		Password:       c.String("nats-password"),
		Token:          c.String("nats-token"),
		TLSCA:          c.String("tls-ca"),
		TLSCert:        c.String("tls-cert"),
		TLSKey:         c.String("tls-key"),
		connectTimeout: 2 * time.Second,
		reconnectMax:   5 * time.Second,
	}
}

// errNoServer means no NATS server is configured and none runs for the data
// dir.
var errNoServer = errors.New("no NATS server")

// hasAuth reports whether any credential flag is set.
func (n *natsSettings) hasAuth() bool {
	return n.Creds != "" || n.NKey != "" || n.User != "" || n.Password != "" || n.Token != ""
}

// credential names the credential the settings authenticate with, for
// error messages: never a secret, only where it comes from.
func (n *natsSettings) credential() string {
	var parts []string
	if n.NKey != "" {
		desc := "nkey seed file " + n.NKey
		if kp, err := coordinator.ReadSeedFile(n.NKey); err == nil {
			if pub, err := kp.PublicKey(); err == nil {
				desc += " (public key " + pub + ")"
			}
		}
		parts = append(parts, desc)
	}
	if n.Creds != "" {
		parts = append(parts, "credentials file "+n.Creds)
	}
	if n.User != "" || n.Password != "" {
		parts = append(parts, fmt.Sprintf("user %q with a password", n.User))
	}
	if n.Token != "" {
		parts = append(parts, "a token")
	}
	if len(parts) == 0 {
		return "no credentials"
	}
	return strings.Join(parts, " and ")
}

// resolve fills in the embedded server of the data dir when no URL is given,
// with the credential of role from the data dir unless one is given.
func (n *natsSettings) resolve(dir dataDir, role coordinator.Role) error {
	if n.URLs != "" {
		return nil
	}
	info, err := dir.readConn()
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%w: pass --nats URL (NATS_URL), or start `sgsweep run` or `sgsweep coordinator` "+
			"with --data-dir %s", errNoServer, dir)
	}
	if err != nil {
		return err
	}
	n.URLs = info.URL
	if n.hasAuth() {
		return nil
	}
	seed := dir.credentialFile(role)
	if _, err := os.Stat(seed); err != nil {
		return fmt.Errorf("the %s credential of the embedded server of %s: %w", role, dir, err)
	}
	n.NKey = seed
	if n.TLSCA == "" && info.CA != "" {
		n.TLSCA = info.CA
	}
	return nil
}

// options turns the settings into nats.go options: reconnect forever with
// jittered exponential back-off, and log connection changes.
func (n *natsSettings) options(name string, log *slog.Logger) ([]nats.Option, error) {
	opts := []nats.Option{
		nats.Name(name),
		nats.Timeout(n.connectTimeout),
		nats.MaxReconnects(-1),
		nats.CustomReconnectDelay(n.reconnectBackoff().Delay),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("NATS disconnected; reconnecting", "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) { log.Info("NATS reconnected", "url", nc.ConnectedUrlRedacted()) }),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			subject := ""
			if sub != nil {
				subject = sub.Subject
			}
			log.Warn("NATS error", "subject", subject, "err", err)
		}),
	}
	if n.Creds != "" {
		opts = append(opts, nats.UserCredentials(n.Creds))
	}
	if n.NKey != "" {
		kp, err := coordinator.ReadSeedFile(n.NKey)
		if err != nil {
			return nil, fmt.Errorf("--nats-nkey: %w", err)
		}
		pub, err := kp.PublicKey()
		if err != nil {
			return nil, fmt.Errorf("--nats-nkey: %w", err)
		}
		opts = append(opts, nats.Nkey(pub, kp.Sign), nats.CustomInboxPrefix(coordinator.InboxPrefix(pub)))
	}
	if n.User != "" || n.Password != "" {
		opts = append(opts, nats.UserInfo(n.User, n.Password))
		if n.NKey == "" && validToken(n.User) {
			opts = append(opts, nats.CustomInboxPrefix(coordinator.InboxPrefix(n.User)))
		}
	}
	if n.Token != "" {
		opts = append(opts, nats.Token(n.Token))
	}
	if n.TLSCA != "" {
		opts = append(opts, nats.RootCAs(n.TLSCA))
	}
	if (n.TLSCert == "") != (n.TLSKey == "") {
		return nil, errors.New("--tls-cert and --tls-key go together")
	}
	if n.TLSCert != "" {
		opts = append(opts, nats.ClientCert(n.TLSCert, n.TLSKey))
	}
	return opts, nil
}

// reconnectBackoff paces the connection and reconnection attempts: 250 ms
// doubling up to reconnectMax, plus up to 25 % random jitter (so that many
// workers do not reconnect in step).
func (n *natsSettings) reconnectBackoff() retry.Backoff {
	return retry.Backoff{Base: 250 * time.Millisecond, Max: n.reconnectMax, Jitter: 0.25}
}

// refused reports whether a connection error is final: the server refused
// the credentials, or TLS cannot work. Retrying cannot help.
func refused(err error) bool {
	for _, e := range []error{nats.ErrAuthorization, nats.ErrAuthExpired, nats.ErrAuthRevoked,
		nats.ErrAccountAuthExpired, nats.ErrSecureConnRequired, nats.ErrSecureConnWanted} {
		if errors.Is(err, e) {
			return true
		}
	}
	msg := err.Error()
	return strings.Contains(msg, "x509:") || strings.Contains(msg, "tls:") ||
		strings.Contains(strings.ToLower(msg), "authorization")
}

// refusal is the error of a server that refused the settings' credential
// (or TLS): it names the credential.
func (n *natsSettings) refusal(err error) error {
	return fmt.Errorf("NATS at %s refused the connection with %s: %w (check --nats-nkey, --nats-creds, "+
		"--nats-user/--nats-password, --nats-token and the --tls-* files; `sgsweep credentials` lists the embedded "+
		"server's)", redact(n.URLs), n.credential(), err)
}

// exitOnRefusal makes a long-running process stop when the server closes
// its connection for good, which nats.go does only when a reconnection's
// credentials are refused (twice in a row): stop is called with the
// refusal naming the credential. Any other loss of the connection is
// retried forever (MaxReconnects -1). A Close or Drain of our own replaces
// this handler first (see drain).
func (n *natsSettings) exitOnRefusal(nc *nats.Conn, stop context.CancelCauseFunc) {
	nc.SetClosedHandler(func(nc *nats.Conn) {
		err := nc.LastError()
		if err == nil {
			err = errors.New("connection closed by the server")
		}
		stop(n.refusal(err))
	})
}

// connectNATS connects with the settings. A refused authorization is an
// error at once. If wait is set, an unreachable server is retried with
// back-off until ctx is done (workers may start before the server);
// otherwise it is an error wrapping errNoServer.
func connectNATS(ctx context.Context, n natsSettings, name string, wait bool, log *slog.Logger) (*nats.Conn, error) {
	opts, err := n.options(name, log)
	if err != nil {
		return nil, err
	}
	backoff := n.reconnectBackoff()
	for attempt := 1; ; attempt++ {
		nc, err := nats.Connect(n.URLs, opts...)
		if err == nil {
			return nc, nil
		}
		if refused(err) {
			return nil, n.refusal(err)
		}
		if !wait {
			return nil, fmt.Errorf("%w reachable at %s: %w", errNoServer, redact(n.URLs), err)
		}
		if attempt == 1 {
			log.Info("waiting for NATS", "url", redact(n.URLs), "err", err)
		}
		if err := backoff.Wait(ctx, attempt); err != nil {
			return nil, fmt.Errorf("connect to NATS at %s: %w", redact(n.URLs), err)
		}
	}
}

// validToken reports whether s can be one subject token: an inbox prefix
// _INBOX.<s> for the user s.
func validToken(s string) bool {
	return s != "" && !strings.ContainsAny(s, ".*> \t\r\n")
}

// redact hides passwords in URLs (nats://user:pass@host).
func redact(urls string) string {
	parts := strings.Split(urls, ",")
	for i, u := range parts {
		if at := strings.LastIndex(u, "@"); at >= 0 {
			if scheme := strings.Index(u, "://"); scheme >= 0 && scheme < at {
				parts[i] = u[:scheme+3] + "***" + u[at:]
			}
		}
	}
	return strings.Join(parts, ",")
}

// dialCoordinator connects to NATS (the flags', or the data dir's embedded
// server) and returns a client of the coordinator's control API and the
// connection, which the caller closes. When there is no server to connect
// to, the error wraps coordinator.ErrNoCoordinator, so that callers can read
// the store instead.
func dialCoordinator(c *cli.Context, log *slog.Logger) (*coordinator.Client, *nats.Conn, error) {
	n := natsSettingsOf(c)
	if err := n.resolve(dataDirOf(c), coordinator.RoleClient); err != nil {
		return nil, nil, fmt.Errorf("%w (%w)", coordinator.ErrNoCoordinator, err)
	}
	nc, err := connectNATS(c.Context, n, "sgsweep-cli", false, log)
	if errors.Is(err, errNoServer) {
		return nil, nil, fmt.Errorf("%w (%w)", coordinator.ErrNoCoordinator, err)
	}
	if err != nil {
		return nil, nil, err
	}
	return coordinator.NewClient(nc), nc, nil
}
