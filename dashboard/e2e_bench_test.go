package dashboard_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sgsweep/sgsweep/coordinator"
	"github.com/sgsweep/sgsweep/coordinator/coordtest"
	"github.com/sgsweep/sgsweep/dashboard"
	"github.com/sgsweep/sgsweep/results/store"
	"github.com/sgsweep/sgsweep/worker"
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
			dir := b.TempDir()
			srv, err := coordinator.StartServer(coordinator.ServerOptions{StoreDir: filepath.Join(dir, "nats")})
			if err != nil {
				b.Fatal(err)
			}
			defer srv.Stop()
			connect := func() *nats.Conn {
				nc, err := nats.Connect("", nats.InProcessServer(srv.Server))
				if err != nil {
					b.Fatal(err)
				}
				return nc
			}
			st, err := store.Open(filepath.Join(dir, "state.db"), &store.Options{NoSync: true})
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			c, err := coordinator.New(st, connect(), coordinator.DefaultConfig())
			if err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- c.Run(ctx) }()
			<-c.Ready()
			w, err := worker.New(connect(), (&coordtest.Fake{}).Train, coordtest.WorkerConfig("bench", 8))
			if err != nil {
				b.Fatal(err)
			}
			go w.Run(ctx)
			spec, _ := coordtest.Expand(b, coordtest.Spec(b, dir, "e2e", b.N, nil, ""))
			if watched {
				watch(b, ctx, st, c)
			}

			b.ResetTimer()
			start := time.Now()
			if _, err := c.SubmitSpec(context.Background(), spec, "e2e.yaml", nil, false); err != nil {
				b.Fatal(err)
			}
			for {
				info, err := st.Sweep(context.Background(), "e2e")
				if err != nil {
					b.Fatal(err)
				}
				if info.State == store.SweepDone {
					break
				}
				time.Sleep(2 * time.Millisecond)
			}
			elapsed := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "tasks/s")
			cancel()
			<-done
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
	url := dashboard.URL(ln) + "events"
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
