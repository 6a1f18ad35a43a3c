package protocol

import "strings"

// NATS names shared by the coordinator, the workers and the CLI. Sweep names
// and task IDs are valid subject tokens (no '.', '*', '>' or spaces), so they
// are used in subjects as they are.
const (
	// StreamTasks is the work-queue stream of task messages, one message per
	// subject (a task is queued at most once at a time).
	StreamTasks = "SGSWEEP_TASKS"
	// StreamResults is the work-queue stream of result messages, consumed by
	// the coordinator only.
	StreamResults = "SGSWEEP_RESULTS"
	// StreamDeadLetters captures the server's advisories about task messages
	// that hit the delivery limit or were terminated by a worker.
	StreamDeadLetters = "SGSWEEP_DLQ"

	// ConsumerWorkers is the one durable pull consumer all workers share on
	// StreamTasks; the coordinator creates it.
	ConsumerWorkers = "workers"
	// ConsumerResults is the coordinator's durable consumer on StreamResults.
	ConsumerResults = "coordinator"
	// ConsumerDeadLetters is the coordinator's durable consumer on
	// StreamDeadLetters.
	ConsumerDeadLetters = "coordinator-dlq"

	// ControlService is the name of the coordinator's NATS micro service;
	// its endpoints live under ControlPrefix.
	ControlService = "sgsweep"
	// ControlPrefix is the subject prefix of the control endpoints:
	// sgsweep.ctl.<endpoint>.
	ControlPrefix = "sgsweep.ctl"

	subjectTask     = "sgsweep.task"
	subjectResult   = "sgsweep.result"
	subjectProgress = "sgsweep.progress"
)

// Subject filters covering every sweep.
const (
	TaskSubjects     = subjectTask + ".>"
	ResultSubjects   = subjectResult + ".>"
	ProgressSubjects = subjectProgress + ".>"
)

// Advisory subjects of the worker consumer that StreamDeadLetters captures:
// a task message that reached the consumer's MaxDeliver, and one a worker
// terminated (corrupt or unsupported).
const (
	AdvisoryMaxDeliveries = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES." + StreamTasks + "." + ConsumerWorkers
	AdvisoryTerminated    = "$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED." + StreamTasks + "." + ConsumerWorkers
)

// TaskSubject is sgsweep.task.<sweep>.<task>.
func TaskSubject(sweep, task string) string { return subjectTask + "." + sweep + "." + task }

// ResultSubject is sgsweep.result.<sweep>.<task>.
func ResultSubject(sweep, task string) string { return subjectResult + "." + sweep + "." + task }

// ProgressSubject is sgsweep.progress.<sweep>.<task>, a plain (non-JetStream)
// subject.
func ProgressSubject(sweep, task string) string {
	return subjectProgress + "." + sweep + "." + task
}

// SweepTaskSubjects is the filter sgsweep.task.<sweep>.> of one sweep's tasks.
func SweepTaskSubjects(sweep string) string { return subjectTask + "." + sweep + ".>" }

// SweepProgressSubjects is the filter sgsweep.progress.<sweep>.> of one
// sweep's progress messages.
func SweepProgressSubjects(sweep string) string { return subjectProgress + "." + sweep + ".>" }

// ControlSubject is the subject of one control endpoint: sgsweep.ctl.<name>.
func ControlSubject(endpoint string) string { return ControlPrefix + "." + endpoint }

// ParseTaskSubject splits sgsweep.task.<sweep>.<task>; ok is false for any
// other subject.
func ParseTaskSubject(subject string) (sweep, task string, ok bool) {
	return parseSubject(subjectTask, subject)
}

// ParseResultSubject splits sgsweep.result.<sweep>.<task>; ok is false for
// any other subject.
func ParseResultSubject(subject string) (sweep, task string, ok bool) {
	return parseSubject(subjectResult, subject)
}

func parseSubject(prefix, subject string) (sweep, task string, ok bool) {
	rest, found := strings.CutPrefix(subject, prefix+".")
	if !found {
		return "", "", false
	}
	sweep, task, found = strings.Cut(rest, ".")
	if !found || sweep == "" || task == "" || strings.Contains(task, ".") {
		return "", "", false
	}
	return sweep, task, true
}
