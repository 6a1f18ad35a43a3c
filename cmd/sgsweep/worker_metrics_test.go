package main

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sgsweep/sgsweep/coordinator/coordtest"
	"github.com/sgsweep/sgsweep/results/store"
)

// `sgsweep worker --metrics` refuses an address off loopback without a
// token, from the flag or its environment variable, before it connects.
func TestWorkerMetricsNeedsToken(t *testing.T) {
	for _, args := range [][]string{
		{"worker", "--nats", "nats://127.0.0.1:1", "--metrics", "0.0.0.0:9300"},
		{"worker", "--nats", "nats://127.0.0.1:1"}, // SGSWEEP_WORKER_METRICS below
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			if len(args) == 3 {
				t.Setenv("SGSWEEP_WORKER_METRICS", ":9300")
			}
			_, _, err := runCLI(t, args...)
			var usage usageError
			if !errors.As(err, &usage) || !strings.Contains(err.Error(), "not loopback") ||
				!strings.Contains(err.Error(), "--metrics-token or SGSWEEP_WORKER_METRICS_TOKEN") {
				t.Errorf("err = %v, want a usage error saying how to set a token", err)
			}
		})
	}
}

// `sgsweep worker --metrics ADDR --metrics-token TOKEN` prints where it
// serves, asks for the token, and counts the tasks it trained.
func TestWorkerMetricsFlag(t *testing.T) {
	e := coordtest.NewEnv(t, coordtest.CoordinatorConfig())
	const token = "tok3n"
	p := startSgsweep(t, &coordtest.Fake{Sleep: 10 * time.Millisecond}, "worker", "--nats", e.Srv.URL,
		"--concurrency", "2", "--metrics", "127.0.0.1:0", "--metrics-token", token)
	line := p.waitLine(20*time.Second, "the metrics URL", func(l string) bool { return strings.HasPrefix(l, "metrics: http://") })
	url := strings.TrimPrefix(line, "metrics: ")
	if !strings.HasSuffix(url, "/metrics") {
		t.Fatalf("metrics URL %q", url)
	}
	scrape := func(auth string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, _ := scrape(""); code != http.StatusUnauthorized {
		t.Errorf("without the token: %d, want 401", code)
	}
	if _, err := e.Submit(coordtest.Spec(t, e.Dir, "flag", 4, nil, ""), false); err != nil {
		t.Fatal(err)
	}
	e.WaitSweep("flag", store.SweepDone, 20*time.Second)
	want := []string{`sgsweep_worker_tasks_total{outcome="started"} 4`, `sgsweep_worker_tasks_total{outcome="completed"} 4`,
		`sgsweep_worker_epochs_total 8`, `sgsweep_worker_slots 2`}
	var body string
	coordtest.WaitFor(t, 5*time.Second, "the worker's counts", func() bool {
		var code int
		code, body = scrape(token)
		if code != http.StatusOK {
			t.Fatalf("with the token: %d %s", code, body)
		}
		for _, w := range want {
			if !strings.Contains(body, w+"\n") {
				return false
			}
		}
		return true
	})
}
