package coordinator

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/sgsweep/sgsweep/protocol"
)

// StreamResultsArchive keeps a copy of every result message stored in the
// results stream for Config.ResultsRetention, acked or not, on subjects
// ResultsArchivePrefix + the original subject. It is what `sgsweep store
// rebuild` replays over a backup.
const (
	StreamResultsArchive = "SGSWEEP_RESULTS_ARCHIVE"
	ResultsArchivePrefix = "sgsweep.archive."
)

// Streams are the JetStream streams and the coordinator's consumers.
type Streams struct {
	// Archive is nil when Config.ResultsRetention is 0.
	Tasks, Results, DeadLetters, Archive jetstream.Stream
	// Workers is the shared worker consumer; ResultConsumer and
	// DeadLetterConsumer are the coordinator's.
	Workers, ResultConsumer, DeadLetterConsumer jetstream.Consumer
}

// EnsureStreams creates or updates the streams and consumers (idempotent).
// The dead-letter stream is created before the worker consumer, so that no
// advisory of it is missed.
func EnsureStreams(ctx context.Context, js jetstream.JetStream, cfg Config) (*Streams, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("coordinator config: %w", err)
	}
	s := &Streams{}
	var err error
	s.Tasks, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        protocol.StreamTasks,
		Description: "sgsweep tasks: one message per task subject, removed when a worker acks it",
		Subjects:    []string{protocol.TaskSubjects},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    cfg.Replicas,
		// Re-publishing a task that is still queued or in flight is
		// refused by the server: an enqueue-if-absent that survives
		// restarts and outlives the dedup window.
		MaxMsgsPerSubject:    1,
		Discard:              jetstream.DiscardNew,
		DiscardNewPerSubject: true,
		Duplicates:           cfg.TaskDuplicates,
		MaxMsgSize:           64 << 10,
		MaxBytes:             cfg.MaxTaskBytes,
	})
	if err != nil {
		return nil, fmt.Errorf("stream %s: %w", protocol.StreamTasks, err)
	}
	// Results: a work queue, so that a result is kept until the coordinator
	// has committed it, however long that takes, and removed when acked.
	// A copy of each goes to the archive, a limits stream that keeps it for
	// the retention window, acked or not: the safety net of `store
	// rebuild`. The server republishes each stored message (RePublish);
	// the archive is created first so that it misses none. The copy is a
	// server-side core publish: if the archive cannot store it, the result
	// itself is unaffected.
	var republish *jetstream.RePublish
	if cfg.ResultsRetention > 0 {
		s.Archive, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
			Name:        StreamResultsArchive,
			Description: "copies of sgsweep results, kept for the retention window for `sgsweep store rebuild`",
			Subjects:    []string{ResultsArchivePrefix + protocol.ResultSubjects},
			Retention:   jetstream.LimitsPolicy,
			Storage:     jetstream.FileStorage,
			Replicas:    cfg.Replicas,
			MaxAge:      cfg.ResultsRetention,
			Discard:     jetstream.DiscardOld,
			MaxMsgSize:  1 << 20,
			MaxBytes:    cfg.MaxResultBytes,
		})
		if err != nil {
			return nil, fmt.Errorf("stream %s: %w", StreamResultsArchive, err)
		}
		republish = &jetstream.RePublish{Source: protocol.ResultSubjects, Destination: ResultsArchivePrefix + protocol.ResultSubjects}
	}
	s.Results, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        protocol.StreamResults,
		Description: "sgsweep results: removed when the coordinator has committed them",
		Subjects:    []string{protocol.ResultSubjects},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    cfg.Replicas,
		Discard:     jetstream.DiscardNew,
		Duplicates:  cfg.ResultDuplicates,
		MaxMsgSize:  1 << 20,
		MaxBytes:    cfg.MaxResultBytes,
		RePublish:   republish,
	})
	if err != nil {
		return nil, fmt.Errorf("stream %s: %w", protocol.StreamResults, err)
	}
	s.DeadLetters, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        protocol.StreamDeadLetters,
		Description: "advisories of task messages that hit the delivery limit or were terminated",
		Subjects:    []string{protocol.AdvisoryMaxDeliveries, protocol.AdvisoryTerminated},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    cfg.Replicas,
		MaxAge:      30 * 24 * time.Hour,
	})
	if err != nil {
		return nil, fmt.Errorf("stream %s: %w", protocol.StreamDeadLetters, err)
	}
	s.Workers, err = js.CreateOrUpdateConsumer(ctx, protocol.StreamTasks, jetstream.ConsumerConfig{
		Durable:       protocol.ConsumerWorkers,
		Description:   "shared by all sgsweep workers; one task per free slot",
		AckPolicy:     jetstream.AckExplicitPolicy,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		FilterSubject: protocol.TaskSubjects,
		AckWait:       cfg.AckWait,
		BackOff:       cfg.BackOff,
		MaxDeliver:    cfg.MaxDeliver,
		MaxAckPending: cfg.MaxAckPending,
		MaxWaiting:    cfg.MaxWaiting,
		Replicas:      cfg.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("consumer %s: %w", protocol.ConsumerWorkers, err)
	}
	s.ResultConsumer, err = js.CreateOrUpdateConsumer(ctx, protocol.StreamResults, jetstream.ConsumerConfig{
		Durable:       protocol.ConsumerResults,
		Description:   "the sgsweep coordinator: commits results to its store, then acks",
		AckPolicy:     jetstream.AckExplicitPolicy,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckWait:       cfg.ResultAckWait,
		MaxDeliver:    -1,
		MaxAckPending: 8192,
		Replicas:      cfg.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("consumer %s: %w", protocol.ConsumerResults, err)
	}
	s.DeadLetterConsumer, err = js.CreateOrUpdateConsumer(ctx, protocol.StreamDeadLetters, jetstream.ConsumerConfig{
		Durable:       protocol.ConsumerDeadLetters,
		Description:   "the sgsweep coordinator: records dead tasks as failed",
		AckPolicy:     jetstream.AckExplicitPolicy,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckWait:       cfg.ResultAckWait,
		MaxDeliver:    -1,
		Replicas:      cfg.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("consumer %s: %w", protocol.ConsumerDeadLetters, err)
	}
	return s, nil
}

// isAlreadyQueued reports whether a task publication was refused because
// the task's subject already holds a message (MaxMsgsPerSubject with
// DiscardNewPerSubject): the task is queued or in flight.
func isAlreadyQueued(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == 10077 &&
		strings.Contains(apiErr.Description, "maximum messages per subject")
}
