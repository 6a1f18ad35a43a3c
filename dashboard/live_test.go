package dashboard_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sgsweep/sgsweep/coordinator/coordtest"
	"github.com/sgsweep/sgsweep/dashboard"
	"github.com/sgsweep/sgsweep/internal/httpserve"
	"github.com/sgsweep/sgsweep/results/store"
)

// liveServer serves a running coordinator of a real-NATS test environment.
func liveServer(t *testing.T) (*coordtest.Env, string) {
	t.Helper()
	e := coordtest.NewEnv(t, coordtest.CoordinatorConfig())
	srv, err := dashboard.New(dashboard.CoordinatorSource(e.Store, e.Coord), e.Coord, dashboard.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := dashboard.Listen("127.0.0.1:0", "")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return e, strings.TrimSuffix(httpserve.URL(ln), "/")
}

type liveState struct {
	Sweeps []struct {
		Name     string `json:"name"`
		State    string `json:"state"`
		Expected int    `json:"expected"`
		Settled  int    `json:"settled"`
	} `json:"sweeps"`
	Running []struct {
		TaskID string `json:"task_id"`
		Epoch  int    `json:"epoch"`
	} `json:"running"`
}

// TestLive: one event stream sees a sweep's progress change as tasks
// finish, with running tasks and their epochs, until it is done; the
// metrics count the commits; actions need the CSRF token.
func TestLive(t *testing.T) {
	const n = 24
	e, base := liveServer(t)
	spec := coordtest.Spec(t, e.Dir, "live", n/2, []float64{0.01, 0.02}, "")
	if _, err := e.Submit(spec, false); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(base + "/events?sweep=live")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("events content type %q", ct)
	}
	// The first seed's tasks run long enough (two epochs of 600 ms) for
	// states a minInterval apart to catch them past their first epoch;
	// the rest are quick, so the settled count changes often.
	slow := map[uint64]time.Duration{0: 1200 * time.Millisecond, 1: 1200 * time.Millisecond}
	e.StartWorker("w1", 2, &coordtest.Fake{Sleep: 40 * time.Millisecond, Slow: slow})

	seen := map[int]bool{}
	sawRunning := false
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	deadline := time.AfterFunc(30*time.Second, func() { resp.Body.Close() })
	defer deadline.Stop()
	event := ""
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "event: "); ok {
			event = v
			continue
		}
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok || event != "status" {
			continue
		}
		var st liveState
		if err := json.Unmarshal([]byte(data), &st); err != nil {
			t.Fatal(err)
		}
		if len(st.Sweeps) != 1 || st.Sweeps[0].Name != "live" || st.Sweeps[0].Expected != n {
			t.Fatalf("state %s", data)
		}
		seen[st.Sweeps[0].Settled] = true
		for _, r := range st.Running {
			sawRunning = sawRunning || r.Epoch > 0
		}
		if st.Sweeps[0].State == store.SweepDone {
			break
		}
	}
	if !seen[n] {
		t.Fatalf("the stream never showed the sweep done (settled counts %v)", seen)
	}
	if len(seen) < 3 {
		t.Errorf("the stream showed %d distinct progress states, want the progress changing: %v", len(seen), seen)
	}
	if !sawRunning {
		t.Error("no running task with an epoch in the stream")
	}

	coordtest.WaitFor(t, 5*time.Second, "metrics of the commits", func() bool {
		return metric(t, base, "sgsweep_results_committed_total") == n
	})
	for name, want := range map[string]float64{`sgsweep_tasks{state="done",sweep="live"}`: n, "sgsweep_workers_seen": 1,
		`sgsweep_task_run_seconds_count{status="ok"}`: n} {
		if got := metric(t, base, name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if got := metric(t, base, "sgsweep_epochs_total"); got < n {
		t.Errorf("sgsweep_epochs_total = %v, want ≥ %d", got, n)
	}

	// A report of a submitted sweep shows its spec file.
	var report strings.Builder
	if err := dashboard.WriteReport(context.Background(), dashboard.CoordinatorSource(e.Store, e.Coord), "live",
		dashboard.ReportOptions{Figures: []string{"kind=bars&conditions=train.lr"}}, &report); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(report.String(), `<pre id="spec">name: live`) {
		t.Errorf("the report lacks the spec:\n%.3000s", report.String())
	}

	// Actions: POST with the page's CSRF token; without it, or from
	// another site, refused.
	page := fetch(t, base+"/sweeps/live")
	csrf := regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`).FindStringSubmatch(page)
	if csrf == nil {
		t.Fatal("no CSRF token on the sweep page")
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	post := func(form url.Values, header ...string) int {
		req, _ := http.NewRequest(http.MethodPost, base+"/sweeps/live/retry", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(url.Values{}); code != http.StatusForbidden {
		t.Errorf("retry without the CSRF token: %d, want 403", code)
	}
	if code := post(url.Values{"csrf": {csrf[1]}}, "Sec-Fetch-Site", "cross-site"); code != http.StatusForbidden {
		t.Errorf("retry from another site: %d, want 403", code)
	}
	if code := post(url.Values{"csrf": {csrf[1]}}); code != http.StatusSeeOther {
		t.Errorf("retry with the CSRF token: %d, want 303", code)
	}
}

// fetch GETs a URL that must answer 200.
func fetch(t *testing.T, u string) string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		b.WriteString(sc.Text() + "\n")
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", u, resp.StatusCode)
	}
	return b.String()
}

// metric reads one sample of /metrics (-1 if absent).
func metric(t *testing.T, base, name string) float64 {
	t.Helper()
	for _, line := range strings.Split(fetch(t, base+"/metrics"), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			x, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return x
		}
	}
	return -1
}
