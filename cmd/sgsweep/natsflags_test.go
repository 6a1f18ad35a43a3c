package main

import (
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestReconnectBackoff(t *testing.T) {
	n := natsSettings{reconnectMax: 5 * time.Second}
	least, most := n.reconnectBackoff(), n.reconnectBackoff()
	least.Rand = func(time.Duration) time.Duration { return 0 }
	most.Rand = func(d time.Duration) time.Duration { return d - 1 }
	for _, tt := range []struct {
		attempt  int
		min, max time.Duration // without and with the most jitter
	}{
		{1, 250 * time.Millisecond, 312500 * time.Microsecond},
		{2, 500 * time.Millisecond, 625 * time.Millisecond},
		{4, 2 * time.Second, 2500 * time.Millisecond},
		{5, 4 * time.Second, 5 * time.Second},
		{6, 5 * time.Second, 6250 * time.Millisecond},
		{1000, 5 * time.Second, 6250 * time.Millisecond},
	} {
		if d := least.Delay(tt.attempt); d != tt.min {
			t.Errorf("Delay(%d) without jitter = %v, want %v", tt.attempt, d, tt.min)
		}
		if d := most.Delay(tt.attempt); d != tt.max {
			t.Errorf("Delay(%d) with the most jitter = %v, want %v", tt.attempt, d, tt.max)
		}
		if d := n.reconnectBackoff().Delay(tt.attempt); d < tt.min || d > tt.max {
			t.Errorf("Delay(%d) = %v, want in [%v, %v]", tt.attempt, d, tt.min, tt.max)
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
