package dashboard

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/sgsweep/sgsweep/coordinator"
)

// Pacing of the event streams.
const (
	// minInterval is the shortest time between two states sent to one
	// browser: wake-ups in between coalesce.
	minInterval = 250 * time.Millisecond
	// keepAlive is the interval of comments that keep idle streams open.
	keepAlive = 15 * time.Second
	// writeTimeout drops a browser that does not take a state in time.
	writeTimeout = 10 * time.Second
	// maxRunning bounds the running tasks sent per state.
	maxRunning = 100
)

// liveState is what an event stream sends: the sweeps' counts and, for
// one sweep, its running tasks.
type liveState struct {
	At      time.Time                `json:"at"`
	Source  string                   `json:"source"`
	Rate    float64                  `json:"rate"`
	Queue   *coordinator.QueueStatus `json:"queue,omitempty"`
	Sweeps  []liveSweep              `json:"sweeps"`
	Running []RunningTask            `json:"running"`
}

type liveSweep struct {
	Name       string  `json:"name"`
	State      string  `json:"state"`
	Expected   int     `json:"expected"`
	Done       int     `json:"done"`
	Failed     int     `json:"failed"`
	Pending    int     `json:"pending"`
	Diverged   int     `json:"diverged"`
	Stopped    int     `json:"stopped"`
	Duplicates int     `json:"duplicates"`
	Conflicts  int     `json:"conflicts"`
	Settled    int     `json:"settled"`
	Percent    string  `json:"percent"`
	ETA        string  `json:"eta"`
	ETASeconds float64 `json:"eta_seconds"`
}

// state reads the current state of one sweep (or all) from the source.
func (s *Server) state(ctx context.Context, sweep string) (*liveState, error) {
	st, err := s.src.Status(ctx, sweep)
	if err != nil {
		return nil, err
	}
	out := &liveState{At: st.At, Source: st.Source, Rate: st.Rate, Queue: st.Queue, Sweeps: []liveSweep{}, Running: []RunningTask{}}
	for _, w := range st.Sweeps {
		out.Sweeps = append(out.Sweeps, liveSweep{Name: w.Name, State: w.State, Expected: w.Expected, Done: w.Done,
			Failed: w.Failed, Pending: w.Pending, Diverged: w.Diverged, Stopped: w.Stopped, Duplicates: w.Duplicates,
			Conflicts: w.Conflicts, Settled: w.Done + w.Stopped + w.Failed, Percent: percent(w.Done+w.Stopped+w.Failed, w.Expected), ETA: etaText(w.ETASeconds), ETASeconds: w.ETASeconds})
	}
	if sweep != "" {
		run := s.hub.Running(sweep)
		out.Running = append(out.Running, run[:min(len(run), maxRunning)]...)
	}
	return out, nil
}

// events is a Server-Sent Events stream of states ("status" events) of
// one sweep (?sweep=NAME) or all, sent at once and then whenever the
// coordinator's events touch them, at most every minInterval.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	name := r.URL.Query().Get("sweep")
	if name != "" {
		if _, err := s.src.Status(ctx, name); err != nil {
			s.fail(w, err, http.StatusInternalServerError)
			return
		}
	}
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	c := s.hub.register(name)
	defer s.hub.unregister(c)

	write := func(text string) bool {
		rc.SetWriteDeadline(time.Now().Add(writeTimeout))
		if _, err := fmt.Fprint(w, text); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	send := func() bool {
		st, err := s.state(ctx, name)
		if err != nil {
			return ctx.Err() == nil && write(fmt.Sprintf("event: error\ndata: %q\n\n", err.Error()))
		}
		data, _ := json.Marshal(st)
		return write("event: status\ndata: " + string(data) + "\n\n")
	}
	if !write("retry: 2000\n\n") || !send() {
		return
	}
	keep := time.NewTicker(keepAlive)
	defer keep.Stop()
	last := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-keep.C:
			if !write(": keep-alive\n\n") {
				return
			}
		case <-c.wake:
			if wait := minInterval - time.Since(last); wait > 0 {
				select {
				case <-ctx.Done():
					return
				case <-time.After(wait):
				}
			}
			last = time.Now()
			if !send() {
				return
			}
		}
	}
}
