package coordinator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sgsweep/sgsweep/internal/retry"
	"github.com/sgsweep/sgsweep/protocol"
	"github.com/sgsweep/sgsweep/results"
	"github.com/sgsweep/sgsweep/results/store"
)

// OrphanReason starts the reason of a result set aside as an orphan: a
// result of a task this coordinator did not hand out. Orphans are kept in
// the store's rejected messages (never used to satisfy a plan, so a later
// sweep that plans the task computes it) and counted by Status.
const OrphanReason = "orphan: "

// errUnauthorized marks results that count for nothing: orphans and
// implausible ones (see unauthorized).
var errUnauthorized = errors.New("result not accepted")

// unauthorized is a result that counts for nothing; its text is the reason
// stored with the message, which starts with OrphanReason for an orphan.
// An implausible result of a planned task is charged to the task's
// delivery budget (store.Charge).
type unauthorized struct {
	reason string
	charge bool
}

func (u *unauthorized) Error() string        { return u.reason }
func (u *unauthorized) Is(target error) bool { return target == errUnauthorized }

// authorize decides whether a decoded result may be committed as the
// outcome of its task. Who may publish results at all is the server's
// business: with per-role credentials only the worker and coordinator
// roles may publish on result subjects (RolePermissions). authorize then
// accepts a result only if
//   - its sweep exists and its task is planned in the store, else it is an
//     orphan (a result published before its sweep is submitted can never
//     satisfy that sweep);
//   - its attempt is a delivery count the worker consumer can have made
//     (1 … MaxDeliver), else it is an orphan;
//   - it carries the ticket of a task message this coordinator published
//     for its sweep and task, at the task's current or an earlier
//     generation (tickets.go), else it is an orphan: it did not come from
//     a worker that pulled the task;
//   - it is plausible (protocol.CheckPlausible), else it is rejected with
//     the reason and charged to its task: the worker has acked the task,
//     reconciliation publishes it again, and the MaxDeliver-th implausible
//     result records the task failed with the reason (store.Charge), so
//     that a task whose every computation is implausible ends.
//
// Results of tasks that are done already go on to the store, which counts
// an identical one as a duplicate and keeps a differing one aside as a
// conflict: the first accepted result is never replaced.
//
// What the ticket cannot tell is whether the worker that pulled a task
// computed it honestly: every worker holds the same worker credential, so
// a holder of it can take tasks from the queue and return plausible but
// false numbers for them, and only for them. Verification by recomputation
// checks that.
//
// ticketGen is the generation whose ticket the result carries
// (store.Incoming.Gen). The error is an *unauthorized (errors.Is
// errUnauthorized); its text is
// the reason stored with the message. A NATS or store failure is returned
// as it is, and the caller hands the batch back.
func (c *Coordinator) authorize(ctx context.Context, r *protocol.ResultMsg) (ticketGen int, err error) {
	orphan := func(format string, args ...any) error {
		return &unauthorized{reason: OrphanReason + fmt.Sprintf(format, args...)}
	}
	if _, err := c.store.Sweep(ctx, r.Sweep); errors.Is(err, results.ErrNotFound) {
		return 0, orphan("sweep %s does not exist", r.Sweep)
	} else if err != nil {
		return 0, err
	}
	_, gen, found, err := c.store.TaskState(ctx, r.TaskID)
	if err != nil {
		return 0, err
	}
	if !found {
		return 0, orphan("task %s is not planned", r.TaskID)
	}
	if a := r.Provenance.Attempt; a < 1 || c.cfg.MaxDeliver > 0 && a > c.cfg.MaxDeliver {
		return 0, orphan("attempt %d of task %s: tasks are delivered 1 to %d times", a, r.TaskID, c.cfg.MaxDeliver)
	}
	if r.Ticket == "" {
		return 0, orphan("result of task %s without a ticket: not from a task message this coordinator published", r.TaskID)
	}
	ticketGen, ok := c.tickets.Match(r.Sweep, r.TaskID, gen, r.Ticket)
	if !ok {
		return 0, orphan("result of task %s with a ticket this coordinator did not issue for sweep %s, generations 0 to %d",
			r.TaskID, r.Sweep, gen)
	}
	if err := protocol.CheckPlausible(r); err != nil {
		return 0, &unauthorized{reason: err.Error(), charge: true}
	}
	return ticketGen, nil
}

// rejection is the store's record of a result message set aside for err;
// an unauthorized result that is charged carries its task's charge.
func (c *Coordinator) rejection(m jetstream.Msg, r *protocol.ResultMsg, err error) store.Rejection {
	rej := store.Rejection{Stream: protocol.StreamResults, Subject: m.Subject(), Seq: streamSeq(m),
		Reason: err.Error(), Data: m.Data()}
	var u *unauthorized
	if errors.As(err, &u) && u.charge {
		rej.Charge = &store.Charge{TaskID: r.TaskID, Budget: c.cfg.MaxDeliver}
	}
	return rej
}

// handBack hands a batch of result messages back for redelivery after a
// failure of what, and pauses a second.
func (c *Coordinator) handBack(ctx context.Context, batch []jetstream.Msg, what string, err error) {
	c.log.Error(what+"; handing them back", "results", len(batch), "err", err)
	for _, m := range batch {
		m.NakWithDelay(time.Second)
	}
	retry.Sleep(ctx, time.Second)
}

// Orphan is a result set aside because its task was not handed out.
type Orphan struct {
	Subject string `json:"subject"`
	Reason  string `json:"reason"`
	// Worker and Host are what the message claims (a forger can claim
	// anything).
	Worker string `json:"worker,omitempty"`
	Host   string `json:"host,omitempty"`
}

// orphanScan bounds the rejected messages Orphans reads.
const orphanScan = 10000

// Orphans counts the orphan results among the last rejected messages of
// the store and returns the last limit of them.
func Orphans(ctx context.Context, db *store.Store, limit int) (int, []Orphan, error) {
	rejected, _, err := db.Rejected(ctx, orphanScan)
	if err != nil {
		return 0, nil, err
	}
	var n int
	var out []Orphan
	for i := len(rejected) - 1; i >= 0; i-- {
		r := rejected[i]
		if !strings.HasPrefix(r.Reason, OrphanReason) {
			continue
		}
		n++
		if len(out) < limit {
			o := Orphan{Subject: r.Subject, Reason: r.Reason}
			var claim struct {
				Provenance struct{ Worker, Host string } `json:"provenance"`
			}
			if json.Unmarshal(r.Data, &claim) == nil {
				o.Worker, o.Host = claim.Provenance.Worker, claim.Provenance.Host
			}
			out = append(out, o)
		}
	}
	return n, out, nil
}
