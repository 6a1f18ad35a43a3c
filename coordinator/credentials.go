package coordinator

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"

	"github.com/sgsweep/sgsweep/protocol"
)

// Role is a kind of NATS identity. The embedded server gives each role one
// nkey user with least-privilege permissions (RolePermissions):
//
//	coordinator  everything (it owns the streams, consumers and control service)
//	worker       pull tasks from the "workers" consumer and ack them, publish
//	             results and progress, read JetStream and stream info (for
//	             health checks); nothing else (no control API, no other
//	             $JS.API)
//	client       the whole control API, read-only JetStream info, progress
//	reader       the read-only control endpoints (status, results, preview),
//	             read-only JetStream info, progress
//
// Only the worker and coordinator roles may publish on result subjects, so
// a result in the result stream came from one of them.
type Role string

// The roles, in the order their credentials are created.
const (
	RoleCoordinator Role = "coordinator"
	RoleWorker      Role = "worker"
	RoleClient      Role = "client"
	RoleReader      Role = "reader"
)

// Roles lists every role.
var Roles = []Role{RoleCoordinator, RoleWorker, RoleClient, RoleReader}

// ReadOnlyEndpoints are the control endpoints the reader role may call.
var ReadOnlyEndpoints = []string{"status", "results", "preview"}

// InboxPrefix is the reply-subject prefix of a connection authenticated as
// the nkey user pub (or the user name pub): _INBOX.<pub>. Each identity may
// subscribe to its own inboxes only, so that no role reads the replies (and
// task deliveries) meant for another.
func InboxPrefix(pub string) string { return "_INBOX." + pub }

// RolePermissions returns the permissions of a role's user whose inboxes
// are InboxPrefix(pub).
func RolePermissions(role Role, pub string) (*server.Permissions, error) {
	inbox := InboxPrefix(pub) + ".>"
	consumer := protocol.StreamTasks + "." + protocol.ConsumerWorkers
	jsInfo := []string{"$JS.API.INFO", "$JS.API.STREAM.INFO.*", "$JS.API.CONSUMER.INFO.*.*"}
	services := []string{"$SRV.PING", "$SRV.PING." + protocol.ControlService, "$SRV.PING." + protocol.ControlService + ".>",
		"$SRV.INFO." + protocol.ControlService, "$SRV.INFO." + protocol.ControlService + ".>"}
	sub := &server.SubjectPermission{Allow: []string{inbox, protocol.ProgressSubjects}}
	switch role {
	case RoleCoordinator:
		return &server.Permissions{
			Publish:   &server.SubjectPermission{Allow: []string{">"}},
			Subscribe: &server.SubjectPermission{Allow: []string{">"}},
		}, nil
	case RoleWorker:
		return &server.Permissions{
			Publish: &server.SubjectPermission{Allow: []string{
				"$JS.API.CONSUMER.INFO." + consumer,
				"$JS.API.CONSUMER.MSG.NEXT." + consumer,
				"$JS.ACK." + consumer + ".>",
				protocol.ResultSubjects,
				protocol.ProgressSubjects,
				// Before training: does the task already have a result?
				protocol.ControlSubject(protocol.EndpointHasResult),
				// sgsweep health: JetStream and stream info, read only.
				"$JS.API.INFO", "$JS.API.STREAM.INFO.*",
			}},
			Subscribe: &server.SubjectPermission{Allow: []string{inbox}},
		}, nil
	case RoleClient:
		allow := append([]string{protocol.ControlPrefix + ".>"}, jsInfo...)
		// A spec too large for one message goes through the object store
		// bucket SpecBucket (Client.Submit): the client may create that
		// bucket, write and remove its objects, and nothing else there.
		obj := "OBJ_" + SpecBucket
		allow = append(allow, "$O."+SpecBucket+".>", "$JS.API.STREAM.CREATE."+obj, "$JS.API.STREAM.INFO."+obj,
			"$JS.API.STREAM.MSG.GET."+obj, "$JS.API.DIRECT.GET."+obj+".>", "$JS.API.STREAM.PURGE."+obj)
		return &server.Permissions{
			Publish:   &server.SubjectPermission{Allow: append(allow, services...)},
			Subscribe: sub,
		}, nil
	case RoleReader:
		var allow []string
		for _, e := range ReadOnlyEndpoints {
			allow = append(allow, protocol.ControlSubject(e))
		}
		allow = append(allow, jsInfo...)
		return &server.Permissions{
			Publish:   &server.SubjectPermission{Allow: append(allow, services...)},
			Subscribe: sub,
		}, nil
	}
	return nil, fmt.Errorf("unknown role %q (roles: coordinator, worker, client, reader)", role)
}

// Credentials are the nkey seeds of the roles, one file per role in a
// directory: <dir>/<role>.nk, mode 0600, in a directory of mode 0700.
// They are created once (LoadCredentials) and reused at every start, so
// that a restarted coordinator lets its workers back in; only
// RotateCredentials replaces them.
type Credentials struct {
	Dir  string
	pubs map[Role]string
}

// CredentialFile is the seed file of a role.
func (c *Credentials) CredentialFile(r Role) string { return credentialFile(c.Dir, r) }

// Public is the public nkey of a role's user.
func (c *Credentials) Public(r Role) string { return c.pubs[r] }

// Users are the embedded server's nkey users: one per role, with its
// permissions.
func (c *Credentials) Users() ([]*server.NkeyUser, error) {
	var users []*server.NkeyUser
	for _, r := range Roles {
		perms, err := RolePermissions(r, c.pubs[r])
		if err != nil {
			return nil, err
		}
		users = append(users, &server.NkeyUser{Nkey: c.pubs[r], Permissions: perms})
	}
	return users, nil
}

func credentialFile(dir string, r Role) string { return filepath.Join(dir, string(r)+".nk") }

// LoadCredentials reads the roles' seed files in dir, creating the missing
// ones (and dir). A seed file that is readable by others than its owner is
// refused: anyone who can read worker.nk can publish results.
func LoadCredentials(dir string) (*Credentials, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("credentials: %w", err)
	}
	c := &Credentials{Dir: dir, pubs: map[Role]string{}}
	for _, r := range Roles {
		path := credentialFile(dir, r)
		kp, err := ReadSeedFile(path)
		if errors.Is(err, os.ErrNotExist) {
			kp, err = writeSeed(path)
		}
		if err != nil {
			return nil, err
		}
		if c.pubs[r], err = kp.PublicKey(); err != nil {
			return nil, fmt.Errorf("credentials %s: %w", path, err)
		}
	}
	return c, nil
}

// RotateCredentials replaces the seeds of the given roles (all when none
// is given) with new ones. A running server keeps the old ones until it
// restarts; every process of a rotated role then needs the new file.
func RotateCredentials(dir string, roles ...Role) error {
	if len(roles) == 0 {
		roles = Roles
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("credentials: %w", err)
	}
	for _, r := range roles {
		if _, err := RolePermissions(r, ""); err != nil {
			return err
		}
		if _, err := writeSeed(credentialFile(dir, r)); err != nil {
			return err
		}
	}
	return nil
}

// ReadSeedFile reads a user nkey seed file (as --nats-nkey takes). It
// refuses a file that group or others may read.
func ReadSeedFile(path string) (nkeys.KeyPair, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("credentials %s: mode %v lets others read it; chmod 600 %s", path, fi.Mode().Perm(), path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	kp, err := nkeys.FromSeed(bytes.TrimSpace(data))
	if err != nil {
		return nil, fmt.Errorf("credentials %s: %w", path, err)
	}
	if pub, _ := kp.PublicKey(); !strings.HasPrefix(pub, "U") {
		return nil, fmt.Errorf("credentials %s: not a user nkey seed", path)
	}
	return kp, nil
}

// writeSeed writes a new user seed to path atomically, mode 0600.
func writeSeed(path string) (nkeys.KeyPair, error) {
	kp, err := nkeys.CreateUser()
	if err != nil {
		return nil, err
	}
	seed, err := kp.Seed()
	if err != nil {
		return nil, err
	}
	if err := writeSecret(path, append(seed, '\n')); err != nil {
		return nil, fmt.Errorf("credentials %s: %w", path, err)
	}
	return kp, nil
}

// writeSecret writes data to path atomically (a file beside it, synced and
// renamed into place), mode 0600 from the start.
func writeSecret(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".secret.*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
