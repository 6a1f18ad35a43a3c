package main

import (
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	for _, tt := range []struct {
		attempt  int
		min, max time.Duration
	}{
		{1, 250 * time.Millisecond, 312500 * time.Microsecond},
		{2, 500 * time.Millisecond, 625 * time.Millisecond},
		{4, 2 * time.Second, 2500 * time.Millisecond},
		{5, 4 * time.Second, 5 * time.Second},
		{6, 5 * time.Second, 6250 * time.Millisecond},
		{1000, 5 * time.Second, 6250 * time.Millisecond},
	} {
		for range 20 {
			if d := backoff(tt.attempt, 5*time.Second); d < tt.min || d > tt.max {
				t.Errorf("backoff(%d) = %v, want in [%v, %v]", tt.attempt, d, tt.min, tt.max)
			}
		}
	}
}

func TestRedact(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"nats://host:4222", "nats://host:4222"},
		{"nats://u:secret@host:4222,tls://a:b@other:4222", "nats://***@host:4222,tls://***@other:4222"},
	} {
		if got := redact(tt.in); got != tt.want {
			t.Errorf("redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNATSOptionErrors(t *testing.T) {
	for _, tt := range []struct {
		name    string
		n       natsSettings
		wantErr string
	}{
		{"cert without key", natsSettings{TLSCert: "c.pem"}, "--tls-cert and --tls-key"},
		{"missing nkey file", natsSettings{NKey: "/nonexistent/seed.nk"}, "--nats-nkey"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.n.options("test", loggerForTest())
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("options() = %v, want an error mentioning %q", err, tt.wantErr)
			}
		})
	}
}

func loggerForTest() *slog.Logger { return slog.New(slog.DiscardHandler) }
