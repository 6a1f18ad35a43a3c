package dashboard_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/sgsweep/sgsweep/coordinator"
	"github.com/sgsweep/sgsweep/coordinator/coordtest"
	"github.com/sgsweep/sgsweep/dashboard"
	"github.com/sgsweep/sgsweep/internal/httpserve"
	"github.com/sgsweep/sgsweep/results/store"
)

// BenchmarkEndToEndWatched runs b.N instant tasks through a real NATS
// server, coordinator, store and worker (as coordinator's
// BenchmarkEndToEnd, SyncAlways=false), without and with the dashboard
// serving a browser that reads every state and one that never reads: the
// commits must not slow down.
//
//	go test ./dashboard/ -run '^$' -bench EndToEndWatched -benchtime 2000x -count 5
func BenchmarkEndToEndWatched(b *testing.B) {
	for _, watched := range []bool{false, true} {
		b.Run(fmt.Sprintf("dashboard=%v", watched), func(b *testing.B) {
			p := coordtest.NewPipeline(b, coordtest.PipelineOptions{NoSync: true, Run: (&coordtest.Fake{}).Train})
			defer p.Close()
			spec, _ := coordtest.Expand(b, coordtest.Spec(b, p.Dir, "e2e", b.N, nil, ""))
			if watched {
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				watch(b, ctx, p.Store, p.Coordinator)
			}

			b.ResetTimer()
			start := time.Now()
			p.RunSweep(b, spec)
			elapsed := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "tasks/s")
		})
	}
}

// watch serves the dashboard of c with two browsers on the sweep's event
// stream: one reads every state, one never reads.
func watch(b *testing.B, ctx context.Context, st *store.Store, c *coordinator.Coordinator) {
	srv, err := dashboard.New(dashboard.CoordinatorSource(st, c), c, dashboard.Options{})
	if err != nil {
		b.Fatal(err)
	}
	ln, err := dashboard.Listen("127.0.0.1:0", "")
	if err != nil {
		b.Fatal(err)
	}
	go srv.Serve(ctx, ln)
	url := httpserve.URL(ln) + "events"
	open := func() *http.Response {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		return resp
	}
	reader := open()
	go func() {
		sc := bufio.NewScanner(reader.Body)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
		}
	}()
	stuck := open()
	b.Cleanup(func() { reader.Body.Close(); stuck.Body.Close() })
}
