package coordinator_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sgsweep/sgsweep/coordinator"
	"github.com/sgsweep/sgsweep/coordinator/coordtest"
	"github.com/sgsweep/sgsweep/protocol"
	"github.com/sgsweep/sgsweep/sweep"
)

// serverEnv makes the test binary run only an embedded NATS server (store
// dir in its value) and print its URL: benchmarks measure the coordinator's
// memory without the server's.
const serverEnv = "SGSWEEP_TEST_NATS_SERVER"

func TestMain(m *testing.M) {
	if dir := os.Getenv(coordinatorEnv); dir != "" {
		runCoordinatorProcess(dir) // stops_kill_test.go; until killed
		return
	}
	if dir := os.Getenv(serverEnv); dir != "" {
		sync := os.Getenv("SGSWEEP_BENCH_SYNC") != "false"
		srv, err := coordinator.StartServer(coordinator.ServerOptions{StoreDir: dir, SyncAlways: sync})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println(srv.URL)
		srv.WaitForShutdown() // until killed
		return
	}
	os.Exit(m.Run())
}

// BenchmarkEndToEnd pushes b.N instant tasks (coordtest.Fake, no sleep) through the whole pipeline as
// `sgsweep run` does: embedded server (in-process connections), plan in
// bbolt, publish, 8 worker slots (Next, result published, DoubleAck),
// results committed in batches, sweep done. bbolt syncs every commit; the
// server syncs every message with SyncAlways (sub-benchmark names). Setup
// (server, streams, spec expansion) is outside the timer.
//
//	go test -run '^$' -bench EndToEnd -benchtime 5000x -count 5 ./coordinator
func BenchmarkEndToEnd(b *testing.B) {
	for _, syncAlways := range []bool{true, false} {
		b.Run(fmt.Sprintf("SyncAlways=%v", syncAlways), func(b *testing.B) {
			p := coordtest.NewPipeline(b, coordtest.PipelineOptions{SyncAlways: syncAlways, Run: (&coordtest.Fake{}).Train})
			defer p.Close()
			spec, err := sweep.ParseFile(coordtest.Spec(b, p.Dir, "e2e", b.N, nil, ""))
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			start, cpu0 := time.Now(), cpuTime()
			p.RunSweep(b, spec)
			elapsed := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "tasks/s")
			b.ReportMetric((cpuTime()-cpu0).Seconds()*1000/float64(b.N), "cpu-ms/task")
			if st := p.Worker.Stats(); st.Completed+st.Duplicates < int64(b.N) {
				b.Fatalf("worker stats %+v for %d tasks", st, b.N)
			}
		})
	}
}

// BenchmarkPlanAndPublish100k plans a 100 000-task sweep (parse, then the
// expansion streamed into store.Store.PlanSweep: staged in chunks, then
// switched) and publishes every task to a NATS server running in another
// process, and reports the time and the coordinator process's peak heap and
// peak RSS.
//
//	go test -run '^$' -bench PlanAndPublish100k -benchtime 1x -count 3 ./coordinator
func BenchmarkPlanAndPublish100k(b *testing.B) {
	const n = 100_000
	for range b.N {
		b.StopTimer()
		dir := b.TempDir()
		c, nc, st := benchCoordinator(b, dir, externalServer(b, filepath.Join(dir, "nats")))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- c.Run(ctx) }()
		<-c.Ready()
		js, _ := jetstream.New(nc)
		stream, _ := js.Stream(ctx, protocol.StreamTasks)
		path := coordtest.Spec(b, dir, "big", n, nil, "")
		runtime.GC()
		var peakHeap atomic.Uint64
		stopSampling := sampleHeap(&peakHeap)
		b.StartTimer()

		start := time.Now()
		source, _ := os.ReadFile(path)
		spec, err := sweep.Parse(path, source)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.SubmitSpec(ctx, spec, path, source, false); err != nil {
			b.Fatal(err)
		}
		planned := time.Since(start)
		for {
			info, err := stream.Info(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if info.State.Msgs == n {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		elapsed := time.Since(start)
		b.StopTimer()
		stopSampling()
		b.ReportMetric(planned.Seconds(), "plan-s")
		b.ReportMetric(elapsed.Seconds(), "plan+publish-s")
		b.ReportMetric(float64(peakHeap.Load())/(1<<20), "peak-heap-MiB")
		b.ReportMetric(peakRSS(b)/(1<<20), "peak-RSS-MiB")
		cancel()
		<-done
		nc.Close()
		st.Close()
	}
}

// externalServer runs a NATS server in a child process and returns its URL.
func externalServer(b *testing.B, dir string) string {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), serverEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		b.Fatalf("server process: %v", err)
	}
	return strings.TrimSpace(line)
}

// sampleHeap records the peak HeapInuse every 5 ms until stopped.
func sampleHeap(peak *atomic.Uint64) (stop func()) {
	quit := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		var ms runtime.MemStats
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-quit:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(quit); <-finished }
}

// peakRSS is the process's peak resident set (VmHWM), in bytes.
func peakRSS(b *testing.B) float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb * 1024
		}
	}
	return 0
}

// cpuTime is the process's user + system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
