package store

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/sgsweep/sgsweep/protocol"
	"github.com/sgsweep/sgsweep/sim"
	bolt "go.etcd.io/bbolt"
)

// The stored result messages and task entries are JSON written by
// encoding/json. Reading a sweep decodes one of each per task, and
// encoding/json's reflection was most of the time of a query over a large
// sweep (4 of the 8.8 s of a grouped table over 100 000 tasks). The
// decoders here read the layout encoding/json writes for these types,
// without reflection; on anything else (an unknown or differently cased
// key, an escaped or non-ASCII string, a null where a value is expected, a
// stop decision) they give up and the value is decoded by encoding/json
// instead, so that the result is the same as json.Unmarshal's (for input
// without duplicate keys, which encoding/json never writes).

// resultReader decodes stored result messages. One reader serves a walk
// over many: it keeps the strings they have in common.
type resultReader struct {
	intern map[string]string
	// epochs is the number of epochs of the last result read: the
	// capacity to give the next one's (results of a sweep mostly have the
	// same number, and growing the slice allocated three times as much).
	epochs int
}

// decode decodes a stored result message as json.Unmarshal would. Unless
// keepParams, it skips the message's params (the echo of params/<task ID>,
// which Records does not report) and leaves m.Params nil: it neither copies
// nor validates them, which saves a third of the time. That is safe for the
// stored form only: Commit stores a message it has decoded (Incoming), valid
// JSON.
func (rr *resultReader) decode(data []byte, m *protocol.ResultMsg, keepParams bool) error {
	if rr.intern == nil {
		rr.intern = map[string]string{}
	}
	d := jsonReader{data: data, skipParams: !keepParams, intern: rr.intern, epochs: rr.epochs}
	if d.resultMsg(m) && d.end() {
		rr.epochs = d.epochs
		return nil
	}
	*m = protocol.ResultMsg{}
	err := json.Unmarshal(data, m)
	if !keepParams {
		m.Params = nil
	}
	return err
}

// decodeResult decodes a stored result message as json.Unmarshal would.
func decodeResult(data []byte, m *protocol.ResultMsg) error {
	return new(resultReader).decode(data, m, true)
}

// decodeTask decodes a task entry as json.Unmarshal would.
func decodeTask(data []byte, t *taskEntry) error {
	d := jsonReader{data: data}
	if d.taskEntry(t) && d.end() {
		return nil
	}
	*t = taskEntry{}
	return json.Unmarshal(data, t)
}

// getTask reads tasks/<id> into t (getJSON with decodeTask); false if
// there is none.
func getTask(tasks *bolt.Bucket, id []byte, t *taskEntry) (bool, error) {
	data := tasks.Get(id)
	if data == nil {
		return false, nil
	}
	if err := decodeTask(data, t); err != nil {
		return true, fmt.Errorf("decode %s: %w", id, err)
	}
	return true, nil
}

// jsonReader reads the JSON encoding/json writes. Its methods return false
// when the input is anything else (the caller then falls back).
type jsonReader struct {
	data []byte
	pos  int
	// skipParams skips a result message's params (see decodeResult).
	skipParams bool
	// floats backs the float slices of one value (spikes, silent, epoch
	// seconds: short and many), allocated a few at a time.
	floats []float64
	// intern holds the strings that repeat from value to value (schema,
	// status, host, build, …): see resultReader.
	intern map[string]string
	// epochs is the capacity of a result's epochs: resultReader.epochs in,
	// the number read out.
	epochs int
}

func (d *jsonReader) space() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\r', '\n':
			d.pos++
		default:
			return
		}
	}
}

// end reports whether only white space is left.
func (d *jsonReader) end() bool {
	d.space()
	return d.pos == len(d.data)
}

// byte consumes c after white space.
func (d *jsonReader) byte(c byte) bool {
	d.space()
	if d.pos < len(d.data) && d.data[d.pos] == c {
		d.pos++
		return true
	}
	return false
}

// null consumes a null literal if one comes next.
func (d *jsonReader) null() bool {
	d.space()
	if len(d.data)-d.pos >= 4 && string(d.data[d.pos:d.pos+4]) == "null" {
		d.pos += 4
		return true
	}
	return false
}

// rawString returns the bytes of a string without escapes or non-ASCII
// bytes (which encoding/json would transform), without the quotes.
func (d *jsonReader) rawString() ([]byte, bool) {
	if !d.byte('"') {
		return nil, false
	}
	start := d.pos
	for ; d.pos < len(d.data); d.pos++ {
		switch c := d.data[d.pos]; {
		case c == '"':
			d.pos++
			return d.data[start : d.pos-1], true
		case c == '\\' || c < 0x20 || c >= 0x80:
			return nil, false
		}
	}
	return nil, false
}

func (d *jsonReader) string(s *string) bool {
	b, ok := d.rawString()
	if ok {
		*s = string(b)
	}
	return ok
}

// common reads a string that is likely the same in many records, without
// allocating it again.
func (d *jsonReader) common(s *string) bool {
	b, ok := d.rawString()
	if !ok {
		return false
	}
	if v, found := d.intern[string(b)]; found {
		*s = v
		return true
	}
	*s = string(b)
	if d.intern != nil && len(d.intern) < 1024 {
		d.intern[*s] = *s
	}
	return true
}

// number returns the bytes of a number literal of JSON's grammar.
func (d *jsonReader) number() ([]byte, bool) {
	d.space()
	start, i := d.pos, d.pos
	digits := func() bool {
		j := i
		for i < len(d.data) && d.data[i] >= '0' && d.data[i] <= '9' {
			i++
		}
		return i > j
	}
	if i < len(d.data) && d.data[i] == '-' {
		i++
	}
	switch {
	case i < len(d.data) && d.data[i] == '0':
		i++
	case !digits():
		return nil, false
	}
	if i < len(d.data) && d.data[i] == '.' {
		i++
		if !digits() {
			return nil, false
		}
	}
	if i < len(d.data) && (d.data[i] == 'e' || d.data[i] == 'E') {
		i++
		if i < len(d.data) && (d.data[i] == '+' || d.data[i] == '-') {
			i++
		}
		if !digits() {
			return nil, false
		}
	}
	d.pos = i
	return d.data[start:i], true
}

func (d *jsonReader) float(x *float64) bool {
	b, ok := d.number()
	if !ok {
		return false
	}
	v, err := strconv.ParseFloat(string(b), 64)
	*x = v
	return err == nil
}

func (d *jsonReader) int(n *int) bool {
	b, ok := d.number()
	if !ok {
		return false
	}
	v, err := strconv.ParseInt(string(b), 10, 0)
	*n = int(v)
	return err == nil
}

func (d *jsonReader) bool(v *bool) bool {
	d.space()
	switch {
	case len(d.data)-d.pos >= 4 && string(d.data[d.pos:d.pos+4]) == "true":
		d.pos += 4
		*v = true
	case len(d.data)-d.pos >= 5 && string(d.data[d.pos:d.pos+5]) == "false":
		d.pos += 5
		*v = false
	default:
		return false
	}
	return true
}

func (d *jsonReader) time(t *time.Time) bool {
	d.space()
	start := d.pos
	if _, ok := d.rawString(); !ok {
		return false
	}
	return t.UnmarshalJSON(d.data[start:d.pos]) == nil
}

// object reads an object, calling field with each key; field reads the
// value and returns false for a key it does not know.
func (d *jsonReader) object(field func(key []byte) bool) bool {
	if !d.byte('{') {
		return false
	}
	if d.byte('}') {
		return true
	}
	for {
		key, ok := d.rawString()
		if !ok || !d.byte(':') || !field(key) {
			return false
		}
		if d.byte('}') {
			return true
		}
		if !d.byte(',') {
			return false
		}
	}
}

// array reads an array, calling elem for each element; a null is a nil
// slice (elem is not called and nil is reported through isNull).
func (d *jsonReader) array(isNull *bool, elem func() bool) bool {
	*isNull = false
	if d.null() {
		*isNull = true
		return true
	}
	if !d.byte('[') {
		return false
	}
	if d.byte(']') {
		return true
	}
	for {
		if !elem() {
			return false
		}
		if d.byte(']') {
			return true
		}
		if !d.byte(',') {
			return false
		}
	}
}

// rawValue moves past any value and returns its bytes (for raw
// messages), checked with json.Valid.
func (d *jsonReader) rawValue() ([]byte, bool) {
	d.space()
	start := d.pos
	if !d.skipValue() {
		return nil, false
	}
	v := d.data[start:d.pos]
	return v, json.Valid(v)
}

// skipValue moves past any value, checking only that strings end and
// brackets balance.
func (d *jsonReader) skipValue() bool {
	d.space()
	start := d.pos
	depth := 0
	inString := false
	for ; d.pos < len(d.data); d.pos++ {
		c := d.data[d.pos]
		switch {
		case inString:
			if c == '\\' {
				d.pos++
			} else if c == '"' {
				inString = false
				if depth == 0 {
					d.pos++
					return true
				}
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			if depth--; depth <= 0 {
				d.pos++
				return depth == 0
			}
		case depth == 0 && (c == ',' || c == ' ' || c == '\t' || c == '\r' || c == '\n'):
			return d.pos > start
		}
	}
	return depth == 0 && !inString && d.pos > start
}

// floatList reads a list of numbers (a null is a nil slice, as in
// encoding/json) into the reader's float backing.
func (d *jsonReader) floatList(x *[]float64) bool {
	if len(d.floats) == cap(d.floats) {
		d.floats = make([]float64, 0, 64)
	}
	start := len(d.floats)
	var isNull bool
	ok := d.array(&isNull, func() bool {
		var v float64
		if !d.float(&v) {
			return false
		}
		if len(d.floats) == cap(d.floats) { // move this list to a new backing
			grown := make([]float64, len(d.floats)-start, max(64, 2*(len(d.floats)-start)))
			copy(grown, d.floats[start:])
			d.floats, start = grown, 0
		}
		d.floats = append(d.floats, v)
		return true
	})
	switch {
	case isNull:
		*x = nil
	default:
		*x = d.floats[start:len(d.floats):len(d.floats)]
	}
	return ok
}

func (d *jsonReader) resultMsg(m *protocol.ResultMsg) bool {
	return d.object(func(key []byte) bool {
		switch string(key) {
		case "schema":
			return d.common(&m.Schema)
		case "sweep":
			return d.common(&m.Sweep)
		case "task_id":
			return d.string(&m.TaskID)
		case "status":
			return d.common(&m.Status)
		case "error":
			return d.string(&m.Error)
		case "digest":
			return d.string(&m.Digest)
		case "result":
			if d.null() {
				m.Result = nil
				return true
			}
			if m.Result == nil {
				m.Result = new(sim.Result)
			}
			return d.simResult(m.Result)
		case "params":
			if d.skipParams {
				return d.skipValue()
			}
			v, ok := d.rawValue()
			m.Params = append(json.RawMessage(nil), v...)
			return ok
		case "provenance":
			return d.provenance(&m.Provenance)
		case "ticket":
			return d.string(&m.Ticket)
		case "stop":
			return d.null() // a decision: left to encoding/json
		}
		return false
	})
}

func (d *jsonReader) simResult(r *sim.Result) bool {
	return d.object(func(key []byte) bool {
		switch string(key) {
		case "status":
			return d.common(&r.Status)
		case "epochs":
			var isNull bool
			out := make([]sim.Epoch, 0, d.epochs)
			ok := d.array(&isNull, func() bool {
				out = append(out, sim.Epoch{})
				return d.epoch(&out[len(out)-1])
			})
			if isNull {
				out = nil
			}
			r.Epochs, d.epochs = out, len(out)
			return ok
		case "best_epoch":
			return d.int(&r.BestEpoch)
		case "best_val_acc":
			return d.float(&r.BestValAcc)
		case "test_acc":
			return d.float(&r.TestAcc)
		case "test_acc_last":
			return d.float(&r.TestAccLast)
		}
		return false
	})
}

func (d *jsonReader) epoch(e *sim.Epoch) bool {
	return d.object(func(key []byte) bool {
		switch string(key) {
		case "epoch":
			return d.int(&e.Epoch)
		case "train_loss":
			return d.float(&e.TrainLoss)
		case "train_acc":
			return d.float(&e.TrainAcc)
		case "val_acc":
			return d.float(&e.ValAcc)
		case "spikes":
			return d.floatList(&e.Spikes)
		case "silent":
			return d.floatList(&e.Silent)
		}
		return false
	})
}

func (d *jsonReader) provenance(p *protocol.Provenance) bool {
	return d.object(func(key []byte) bool {
		switch string(key) {
		case "model_version":
			return d.common(&p.ModelVersion)
		case "build":
			return d.build(&p.Build)
		case "host":
			return d.common(&p.Host)
		case "worker":
			return d.common(&p.Worker)
		case "attempt":
			return d.int(&p.Attempt)
		case "started_at":
			return d.time(&p.StartedAt)
		case "finished_at":
			return d.time(&p.FinishedAt)
		case "timing":
			return d.object(func(key []byte) bool {
				switch string(key) {
				case "data_seconds":
					return d.float(&p.Timing.DataSeconds)
				case "epoch_seconds":
					return d.floatList(&p.Timing.EpochSeconds)
				}
				return false
			})
		}
		return false
	})
}

func (d *jsonReader) build(b *protocol.Build) bool {
	return d.object(func(key []byte) bool {
		switch string(key) {
		case "module":
			return d.common(&b.Module)
		case "version":
			return d.common(&b.Version)
		case "revision":
			return d.common(&b.Revision)
		case "modified":
			return d.bool(&b.Modified)
		case "go_version":
			return d.common(&b.GoVersion)
		case "platform":
			return d.common(&b.Platform)
		}
		return false
	})
}

func (d *jsonReader) taskEntry(t *taskEntry) bool {
	return d.object(func(key []byte) bool {
		switch string(key) {
		case "state":
			return d.string(&t.State)
		case "status":
			return d.string(&t.Status)
		case "digest":
			return d.string(&t.Digest)
		case "attempts":
			return d.int(&t.Attempts)
		case "error":
			return d.string(&t.Error)
		case "gen":
			return d.int(&t.Gen)
		case "duplicates":
			return d.int(&t.Duplicates)
		case "conflicts":
			return d.int(&t.Conflicts)
		case "rejected":
			return d.int(&t.Rejected)
		case "verify":
			return d.null() // a verification: left to encoding/json
		case "sweeps":
			var isNull bool
			var out []string
			ok := d.array(&isNull, func() bool {
				out = append(out, "")
				return d.string(&out[len(out)-1])
			})
			if !isNull && out == nil {
				out = []string{}
			}
			t.Sweeps = out
			return ok
		case "updated":
			return d.time(&t.Updated)
		}
		return false
	})
}
