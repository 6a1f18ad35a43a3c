package worker

import (
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(*Config)
		wantErr string
	}{
		{"default", func(*Config) {}, ""},
		{"no slots", func(c *Config) { c.Concurrency = 0 }, "concurrency"},
		{"negative threads", func(c *Config) { c.Threads = -1 }, "threads"},
		{"negative heartbeat", func(c *Config) { c.Heartbeat = -time.Second }, "heartbeat"},
		{"retry delay above its max", func(c *Config) { c.RetryDelay = time.Hour }, "retry delay"},
		{"no publish timeout", func(c *Config) { c.PublishTimeout = 0 }, "publish timeout"},
		{"negative progress reply timeout", func(c *Config) { c.ProgressReplyTimeout = -1 }, "progress reply timeout"},
		{"no ID", func(c *Config) { c.ID = "" }, "worker ID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.edit(&c)
			err := c.Validate()
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("Validate() = %v, want an error mentioning %q", err, tt.wantErr)
			}
		})
	}
}

func TestRetryDelay(t *testing.T) {
	c := Config{RetryDelay: 30 * time.Second, MaxRetryDelay: 5 * time.Minute}
	for _, tt := range []struct {
		delivery uint64
		want     time.Duration
	}{
		{1, 30 * time.Second},
		{2, time.Minute},
		{3, 2 * time.Minute},
		{4, 4 * time.Minute},
		{5, 5 * time.Minute},
		{50, 5 * time.Minute},
	} {
		if got := c.retryDelay(tt.delivery); got != tt.want {
			t.Errorf("retryDelay(%d) = %v, want %v", tt.delivery, got, tt.want)
		}
	}
}
