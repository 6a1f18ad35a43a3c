package coordinator

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nats.go/micro"

	"github.com/sgsweep/sgsweep/protocol"
	"github.com/sgsweep/sgsweep/results"
	"github.com/sgsweep/sgsweep/results/store"
)

// ErrNoCoordinator means no coordinator answered on the connection: the
// caller may read the store directly instead.
var ErrNoCoordinator = errors.New("no coordinator is running on this NATS server")

// RemoteError is an error the coordinator replied with. It unwraps to
// results.ErrNotFound or ErrSpecChanged where those apply.
type RemoteError struct {
	Endpoint string
	Code     string
	Message  string
}

func (e *RemoteError) Error() string { return e.Message }

func (e *RemoteError) Unwrap() error {
	switch e.Code {
	case codeNotFound:
		return results.ErrNotFound
	case codeConflict:
		return ErrSpecChanged
	}
	return nil
}

// Client calls the coordinator's control endpoints over NATS. Each call is
// one request with a JSON body and a JSON reply; ctx bounds it.
type Client struct {
	nc *nats.Conn
}

// NewClient returns a client on an open connection.
func NewClient(nc *nats.Conn) *Client { return &Client{nc: nc} }

// Call sends req (JSON-encoded) to the endpoint and decodes the reply into
// resp. No coordinator listening is ErrNoCoordinator; an error reply is a
// *RemoteError.
func (c *Client) Call(ctx context.Context, endpoint string, req, resp any) error {
	data, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("encode %s request: %w", endpoint, err)
	}
	msg, err := c.nc.RequestWithContext(ctx, protocol.ControlSubject(endpoint), data)
	if errors.Is(err, nats.ErrNoResponders) {
		return ErrNoCoordinator
	}
	if err != nil {
		return fmt.Errorf("%s: %w", endpoint, err)
	}
	if code := msg.Header.Get(micro.ErrorCodeHeader); code != "" {
		var body errorBody
		if json.Unmarshal(msg.Data, &body) != nil || body.Error == "" {
			body.Error = msg.Header.Get(micro.ErrorHeader)
		}
		return &RemoteError{Endpoint: endpoint, Code: code, Message: body.Error}
	}
	if err := json.Unmarshal(msg.Data, resp); err != nil {
		return fmt.Errorf("decode %s reply: %w", endpoint, err)
	}
	return nil
}

// Ping checks that a coordinator answers (the micro service's PING).
func (c *Client) Ping(ctx context.Context) error {
	subject, err := micro.ControlSubject(micro.PingVerb, protocol.ControlService, "")
	if err != nil {
		return err
	}
	_, err = c.nc.RequestWithContext(ctx, subject, nil)
	if errors.Is(err, nats.ErrNoResponders) {
		return ErrNoCoordinator
	}
	if err != nil {
		return fmt.Errorf("ping: %w", err)
	}
	return nil
}

// Submit plans a spec on the coordinator (see Coordinator.Submit). A spec
// too large for one message (the server's max_payload, 1 MiB by default)
// goes through the object store (sendSpec).
func (c *Client) Submit(ctx context.Context, req SubmitRequest) (*store.PlanReport, error) {
	return sendSpec[store.PlanReport](ctx, c, EndpointSubmit, req)
}

// Status asks for the status of one sweep or all.
func (c *Client) Status(ctx context.Context, req StatusRequest) (*Status, error) {
	return call[Status](ctx, c, EndpointStatus, req)
}

// Cancel cancels a sweep.
func (c *Client) Cancel(ctx context.Context, req CancelRequest) (*CancelReply, error) {
	return call[CancelReply](ctx, c, EndpointCancel, req)
}

// Retry queues a sweep's failed tasks again.
func (c *Client) Retry(ctx context.Context, req RetryRequest) (*RetryReply, error) {
	return call[RetryReply](ctx, c, EndpointRetry, req)
}

// Results runs a results query on the coordinator's store.
func (c *Client) Results(ctx context.Context, req results.QueryRequest) (*results.Table, error) {
	return call[results.Table](ctx, c, EndpointResults, req)
}

// Preview asks what submitting a spec would do (see Coordinator.Preview).
func (c *Client) Preview(ctx context.Context, req SubmitRequest) (*PlanPreview, error) {
	return sendSpec[PlanPreview](ctx, c, EndpointPreview, req)
}

// Snapshot asks the coordinator to write a snapshot of its store.
func (c *Client) Snapshot(ctx context.Context) (*SnapshotReply, error) {
	return call[SnapshotReply](ctx, c, EndpointSnapshot, SnapshotRequest{})
}

// sendSpec calls a spec endpoint (submit, preview). When the request would
// exceed the server's max_payload, the spec is uploaded to the object store
// SpecBucket (created if missing, objects expire after an hour) and the
// request names the object instead; the object is deleted once the
// coordinator has replied. An upload that fails is an error naming the
// limit and the ways around it.
func sendSpec[Resp any](ctx context.Context, c *Client, endpoint string, req SubmitRequest) (*Resp, error) {
	data, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("encode %s request: %w", endpoint, err)
	}
	limit := c.nc.MaxPayload() - 1024 // headroom for the request's headers
	if int64(len(data)) <= limit || req.SpecObject != "" {
		return call[Resp](ctx, c, endpoint, req)
	}
	uctx, cancel := context.WithTimeout(ctx, uploadTimeout)
	name, remove, err := c.uploadSpec(uctx, req.Spec)
	cancel()
	if last := c.nc.LastError(); err != nil && errors.Is(last, nats.ErrPermissionViolation) {
		// A denied publication is reported asynchronously; the request
		// itself only times out.
		err = fmt.Errorf("%w (this NATS user may not write to the object store: %w)", err, last)
	}
	if err != nil {
		return nil, fmt.Errorf("spec %s is %d bytes (%d encoded), over the NATS server's max_payload of %d bytes, "+
			"and uploading it to the JetStream object store %s failed: %w; raise max_payload in the server's "+
			"configuration, or run the sweep with `sgsweep run` where the store is",
			req.SpecName, len(req.Spec), len(data), c.nc.MaxPayload(), SpecBucket, err)
	}
	defer remove()
	req.Spec, req.SpecObject = nil, name
	return call[Resp](ctx, c, endpoint, req)
}

// uploadTimeout bounds the upload of a large spec: a user without the
// permission to write to the object store gets no reply, only a timeout.
const uploadTimeout = 10 * time.Second

// uploadSpec puts a spec into SpecBucket under a new random name; remove
// deletes it.
func (c *Client) uploadSpec(ctx context.Context, spec []byte) (name string, remove func(), err error) {
	js, err := jetstream.New(c.nc)
	if err != nil {
		return "", nil, err
	}
	obs, err := js.ObjectStore(ctx, SpecBucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		obs, err = js.CreateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: SpecBucket,
			Description: "sgsweep specs too large for a submit request, read by the coordinator",
			TTL:         time.Hour, Storage: jetstream.FileStorage})
		if errors.Is(err, jetstream.ErrBucketExists) {
			obs, err = js.ObjectStore(ctx, SpecBucket)
		}
	}
	if err != nil {
		return "", nil, err
	}
	var nonce [12]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return "", nil, err
	}
	name = "spec-" + hex.EncodeToString(nonce[:])
	if _, err := obs.PutBytes(ctx, name, spec); err != nil {
		return "", nil, err
	}
	return name, func() {
		dctx, cancel := context.WithTimeout(context.Background(), uploadTimeout)
		defer cancel()
		obs.Delete(dctx, name) // else it expires with the bucket's TTL
	}, nil
}

// HasResult asks whether a task already has a stored result (see
// Coordinator.HasResult).
func (c *Client) HasResult(ctx context.Context, taskID string) (*protocol.HasResultReply, error) {
	return call[protocol.HasResultReply](ctx, c, protocol.EndpointHasResult, protocol.HasResultRequest{TaskID: taskID})
}

func call[Resp any](ctx context.Context, c *Client, endpoint string, req any) (*Resp, error) {
	var resp Resp
	if err := c.Call(ctx, endpoint, req, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}
