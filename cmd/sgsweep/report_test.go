package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestReportInBrowser: `sgsweep report` writes one file that headless
// Chromium, with name resolution off, renders with every figure and loads
// nothing else.
func TestReportInBrowser(t *testing.T) {
	dir := analysisStore(t)
	out := filepath.Join(t.TempDir(), "report.html")
	_, errOut, err := runCLI(t, "report", "--data-dir", dir, "-o", out, "--group-by", "surrogate.shape", "--compare", "best",
		"--figure", "kind=line&x=surrogate.scale&series=surrogate.shape", "--figure", "kind=bars&conditions=surrogate.shape", "fig")
	if err != nil || !strings.Contains(errOut, "wrote "+out) {
		t.Fatalf("report: %v\n%s", err, errOut)
	}
	if _, err := os.Stat(out); err != nil {
		t.Fatal(err)
	}
	chromium := chromiumPath()
	if chromium == "" {
		t.Skip("skipped: no chromium on PATH (Debian: apt-get install chromium; .ci/run installs it)")
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND"))...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(alloc)
	defer cancel()
	watchdog := time.AfterFunc(time.Minute, cancel)
	defer watchdog.Stop()
	must(t, "open the report", chromedp.Do(ctx, chromedp.Navigate("file://"+out), chromedp.WaitVisible(chromedp.CSS(`#results`))))
	rendered, err := chromedp.Run(ctx, chromedp.Evaluate[int](`Array.from(document.querySelectorAll('figure svg')).
		filter(s => s.getBoundingClientRect().width > 100 && s.querySelectorAll('path, text').length > 10).length`))
	must(t, "figures", err)
	if rendered != 2 {
		t.Errorf("%d figures rendered, want 2", rendered)
	}
	loaded, err := chromedp.Run(ctx, chromedp.Evaluate[int](`performance.getEntriesByType('resource').length`))
	must(t, "resources", err)
	if loaded != 0 {
		t.Errorf("the report loaded %d resources, want none", loaded)
	}
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#results tbody tr').length`))
	must(t, "table", err)
	if rows != 2 {
		t.Errorf("report table has %d rows, want 2 (one per shape)", rows)
	}
	cols, err := chromedp.Run(ctx, chromedp.Evaluate[string](`Array.from(document.querySelectorAll('#results th')).map(th => th.textContent).join(' ')`))
	must(t, "columns", err)
	if !strings.Contains(cols, "test_acc.p") {
		t.Errorf("report table lacks the paired comparison: %s", cols)
	}
}
