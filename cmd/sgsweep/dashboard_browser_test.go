package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sgsweep/sgsweep/coordinator/coordtest"
	"github.com/sgsweep/sgsweep/results"
)

// screenshotEnv names the file the browser test saves its screenshot to
// (default: in the test's temporary directory).
const screenshotEnv = "SGSWEEP_DASHBOARD_SCREENSHOT"

// chromiumPath finds a headless-capable Chromium, or "".
func chromiumPath() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// TestDashboardInBrowser runs a real sweep on `sgsweep coordinator --http`
// with a token and a worker, and drives headless Chromium through the
// dashboard: the login page, the sweeps page listing the sweep, the
// sweep's page whose progress changes while tasks finish with no reload
// (Server-Sent Events), its results table equal to `sgsweep results
// --format json`, and its figure a rendered SVG. It saves a screenshot.
func TestDashboardInBrowser(t *testing.T) {
	chromium := chromiumPath()
	if chromium == "" {
		t.Skip("skipped: no chromium on PATH (Debian: apt-get install chromium; .ci/run installs it)")
	}
	dir := t.TempDir()
	const token = "browser-test-token"

	// Off loopback, no token: refused with a clear message.
	_, _, err := runCLI(t, "dashboard", "--data-dir", dir, "--http", "0.0.0.0:0")
	if err == nil || !strings.Contains(err.Error(), "--http-token") {
		t.Errorf("dashboard on 0.0.0.0 without a token: err = %v", err)
	}

	coord := startSgsweep(t, nil, append([]string{"coordinator", "--data-dir", dir, "--http", "127.0.0.1:0",
		"--http-token", token}, fastFlags...)...)
	line := coord.waitLine(20*time.Second, "the dashboard's URL", func(l string) bool { return strings.HasPrefix(l, "dashboard: http://") })
	base := strings.TrimSuffix(strings.TrimPrefix(line, "dashboard: "), "/")
	coord.waitLine(20*time.Second, "coordinator ready", func(l string) bool { return strings.Contains(l, "coordinator ready") })

	// 3 seeds × 2 learning rates × 3 scales, 2 epochs each.
	spec := coordtest.Spec(t, dir, "dash", 3, []float64{0.01, 0.02}, "  surrogate.scale: [1, 10, 100]\n")
	const n = 18
	if out, errOut, err := runCLI(t, "submit", "--data-dir", dir, spec); err != nil {
		t.Fatalf("submit: %v\n%s%s", err, out, errOut)
	}

	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.WindowSize(1280, 1500))...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(alloc)
	defer cancel()
	watchdog := time.AfterFunc(2*time.Minute, cancel) // no timeout on the browser's context itself
	defer watchdog.Stop()
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }

	// The token: a browser is sent to the login page, and in after it.
	must(t, "open", chromedp.Do(ctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible(css(`input[name="token"]`))))
	loginURL, err := chromedp.Run(ctx, chromedp.Location())
	must(t, "location", err)
	if !strings.Contains(loginURL, "/login") {
		t.Errorf("without the token the browser is at %s, want the login page", loginURL)
	}
	must(t, "login", chromedp.Do(ctx,
		chromedp.SendKeys(css(`input[name="token"]`), token),
		chromedp.Submit(css(`input[name="token"]`)),
		chromedp.WaitVisible(css(`#sweeps`)),
	))
	sweeps, err := chromedp.Run(ctx, chromedp.Text(css(`#sweeps`)))
	must(t, "sweeps page", err)
	if !strings.Contains(sweeps, "dash") || !strings.Contains(sweeps, strconv.Itoa(n)) {
		t.Errorf("sweeps page lists:\n%s", sweeps)
	}

	// The sweep's page, then the worker: the progress must move with no
	// reload (a marker set on the page survives).
	must(t, "sweep page", chromedp.Do(ctx,
		chromedp.Navigate(base+"/sweeps/dash"),
		chromedp.WaitVisible(css(`#progress`)),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := chromedp.Evaluate[any](`window.__noReload = 1`)(ctx, t)
			return err
		}),
	))
	startSgsweep(t, &coordtest.Fake{Sleep: 900 * time.Millisecond}, "worker", "--data-dir", dir, "--concurrency", "2")
	seen := map[string]bool{}
	shot := false
	screenshot := os.Getenv(screenshotEnv)
	if screenshot == "" {
		screenshot = filepath.Join(t.TempDir(), "dashboard.png")
	}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		done, err := chromedp.Run(ctx, chromedp.Text(css(`#progress [data-f="done"]`)))
		must(t, "read progress", err)
		seen[done] = true
		d, _ := strconv.Atoi(done)
		if !shot && d >= n/3 && d <= 2*n/3 {
			takeScreenshot(t, ctx, base+"/sweeps/dash?fig-kind=line&fig-x=surrogate.scale&fig-series=train.lr", screenshot)
			shot = true
		}
		if d == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the page shows %s of %d done after 60 s (seen %v)", done, n, seen)
		}
	}
	marker, err := chromedp.Run(ctx, chromedp.Evaluate[int](`window.__noReload || 0`))
	must(t, "marker", err)
	if marker != 1 {
		t.Error("the sweep page was reloaded")
	}
	if len(seen) < 3 {
		t.Errorf("the page showed %d distinct done counts, want the progress changing live: %v", len(seen), seen)
	}
	if !shot {
		t.Error("no screenshot taken mid-sweep")
	}

	// The table, reloaded, equals `sgsweep results --format json`.
	const query = "group-by=surrogate.scale&agg=n,mean,sd,ci95"
	must(t, "table", chromedp.Do(ctx, chromedp.Navigate(base+"/sweeps/dash?"+query), chromedp.WaitVisible(css(`#results`))))
	cells, err := chromedp.Run(ctx, chromedp.Evaluate[[][]string](`Array.from(document.querySelectorAll('#results tbody tr')).map(
		r => Array.from(r.querySelectorAll('td')).map(td => td.dataset.v))`))
	must(t, "table cells", err)
	cols, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('#results thead th')).map(th => th.dataset.col)`))
	must(t, "table columns", err)
	_, err = chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById('figure').complete`, chromedp.WithPollingTimeout(20*time.Second)))
	must(t, "figure loads", err)
	figureOK, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById('figure').naturalWidth > 0`))
	must(t, "figure", err)
	out, errOut, err := runCLI(t, "results", "--data-dir", dir, "--format", "json", "--group-by", "surrogate.scale",
		"--agg", "n,mean,sd,ci95", "dash")
	if err != nil {
		t.Fatalf("results: %v\n%s", err, errOut)
	}
	var want []map[string]results.Value
	if err := json.Unmarshal([]byte(out), &want); err != nil {
		t.Fatal(err)
	}
	if len(cells) != len(want) || len(want) != 3 {
		t.Fatalf("browser table has %d rows, sgsweep results %d (want 3)", len(cells), len(want))
	}
	for i, row := range want {
		if len(row) != len(cols) || len(cells[i]) != len(cols) {
			t.Fatalf("row %d: browser %v under %v, sgsweep results %v", i, cells[i], cols, row)
		}
		for j, col := range cols {
			if v, ok := row[col]; !ok || cells[i][j] != v.String() {
				t.Errorf("row %d column %s: browser %q, sgsweep results %q", i, col, cells[i][j], v.String())
			}
		}
	}
	if !figureOK {
		t.Error("the figure did not render in the browser")
	}
	src, err := chromedp.Run(ctx, chromedp.AttributeValue(css(`#figure`), "src"))
	must(t, "figure src", err)
	req, _ := http.NewRequest(http.MethodGet, base+src.Value, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/svg+xml" {
		t.Fatalf("figure: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	// Well-formedness is dashboard's TestFigures; here: an SVG document
	// that the browser rendered above.
	if !strings.Contains(string(body), "<svg") || !strings.HasSuffix(strings.TrimSpace(string(body)), "</svg>") {
		t.Errorf("figure is not an SVG document: %.120q", body)
	}
}

// takeScreenshot opens url in a second tab, waits for its figure and for a
// running task (briefly), and saves a full-page PNG to path.
func takeScreenshot(t *testing.T, ctx context.Context, url, path string) {
	t.Helper()
	tab, cancel := chromedp.NewContext(ctx)
	defer cancel()
	must(t, "screenshot tab", chromedp.Do(tab, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS(`#progress`))))
	_, err := chromedp.Run(tab, chromedp.Poll[bool](`document.getElementById('figure').complete && document.getElementById('results') && `+
		`document.querySelectorAll('#running tbody tr').length > 0`, chromedp.WithPollingTimeout(5*time.Second)))
	if err != nil {
		t.Logf("screenshot without a running task: %v", err)
	}
	png, err := chromedp.Run(tab, chromedp.FullScreenshot(100))
	must(t, "screenshot", err)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}
