package coordinator

import (
	"sync"
	"time"
)

// rateMeter measures how many tasks settle per second over a sliding window.
type rateMeter struct {
	mu     sync.Mutex
	window time.Duration
	start  time.Time
	events []rateEvent
	inWin  int
}

type rateEvent struct {
	at time.Time
	n  int
}

func newRateMeter(window time.Duration) *rateMeter {
	return &rateMeter{window: window, start: time.Now()}
}

// add records n tasks settled at time at.
func (r *rateMeter) add(at time.Time, n int) {
	if n <= 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, rateEvent{at, n})
	r.inWin += n
	r.prune(at)
}

// perSecond is the rate over the window ending now (over the time since
// the meter started, if shorter), in tasks per second.
func (r *rateMeter) perSecond(now time.Time) float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.prune(now)
	span := min(now.Sub(r.start), r.window)
	if span <= 0 || r.inWin == 0 {
		return 0
	}
	return float64(r.inWin) / span.Seconds()
}

func (r *rateMeter) prune(now time.Time) {
	cut := 0
	for cut < len(r.events) && now.Sub(r.events[cut].at) > r.window {
		r.inWin -= r.events[cut].n
		cut++
	}
	if cut > 0 {
		r.events = append(r.events[:0], r.events[cut:]...)
	}
}
