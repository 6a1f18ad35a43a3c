package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/sgsweep/sgsweep/coordinator"
)

func init() { commands = append(commands, credentialsCommand) }

// roleDescriptions say what each role of the embedded server may do (see
// coordinator.RolePermissions).
var roleDescriptions = map[coordinator.Role]string{
	coordinator.RoleCoordinator: "everything: streams, consumers, control service (the coordinator only)",
	coordinator.RoleWorker:      "take tasks, publish results and progress, read stream info; no control API, no other JetStream API",
	coordinator.RoleClient:      "the control API: submit, status, results, cancel, retry, preview, snapshot",
	coordinator.RoleReader:      "read only: status, results and preview; progress",
}

func credentialsCommand() *cli.Command {
	return &cli.Command{
		Name:  "credentials",
		Usage: "list the embedded NATS server's per-role credentials, or rotate them",
		Description: "The embedded server of --data-dir admits one nkey per role: coordinator, worker, client and\n" +
			"reader, each with least-privilege permissions. Their seeds are made at the coordinator's first\n" +
			"start in DATA_DIR/credentials/ROLE.nk (mode 0600) and reused at every restart, so running workers\n" +
			"reconnect to a restarted coordinator. Hand a worker machine a copy of worker.nk (mode 0600) and\n" +
			"run `sgsweep worker --nats URL --nats-nkey worker.nk`. `credentials rotate [ROLE...]` replaces\n" +
			"seeds (all without arguments); restart the coordinator, then give every process of those roles\n" +
			"the new files: processes with the old ones are refused and exit naming the file they used.\n" +
			"DATA_DIR/credentials/ticket.key signs the tickets of the task messages, without which the\n" +
			"coordinator sets a result aside; it is the coordinator's alone (`credentials rotate ticket`).",
		Flags:  []cli.Flag{dataDirFlag()},
		Action: runCredentials,
		Subcommands: []*cli.Command{{
			Name:      "rotate",
			Usage:     "replace the seeds of the given roles, or the ticket key (all without arguments)",
			ArgsUsage: "[ROLE...]",
			// Its own --data-dir: flagsFirst moves the flags behind the
			// last subcommand named, as with the store subcommands.
			Flags:  []cli.Flag{dataDirFlag()},
			Action: runRotate,
		}},
	}
}

func runCredentials(c *cli.Context) error {
	if c.NArg() != 0 {
		return usageError{fmt.Errorf("credentials takes no arguments (did you mean `credentials rotate`?), got %q", c.Args().Slice())}
	}
	dir := dataDirOf(c)
	if _, err := os.Stat(dir.credentialsDir()); err != nil {
		return fmt.Errorf("no credentials in %s yet (the coordinator makes them at its first start): %w", dir, err)
	}
	creds, err := coordinator.LoadCredentials(dir.credentialsDir())
	if err != nil {
		return err
	}
	w := c.App.Writer
	for _, r := range coordinator.Roles {
		fmt.Fprintf(w, "%-11s  %s\n             public key %s\n             may: %s\n", r, creds.CredentialFile(r),
			creds.Public(r), roleDescriptions[r])
	}
	fmt.Fprintf(w, "%-11s  %s\n             signs the task tickets: the coordinator's alone, never hand it out\n",
		ticketName, filepath.Join(dir.credentialsDir(), coordinator.TicketKeyFile))
	return nil
}

// ticketName names the task ticket key among the roles of `credentials
// rotate`.
const ticketName = "ticket"

func runRotate(c *cli.Context) error {
	var roles []coordinator.Role
	ticket := c.NArg() == 0
	for _, a := range c.Args().Slice() {
		if a == ticketName {
			ticket = true
			continue
		}
		if _, err := coordinator.RolePermissions(coordinator.Role(a), ""); err != nil {
			return usageError{fmt.Errorf("%w, or %s (the task ticket key)", err, ticketName)}
		}
		roles = append(roles, coordinator.Role(a))
	}
	dir := dataDirOf(c)
	if len(roles) > 0 || c.NArg() == 0 {
		if err := coordinator.RotateCredentials(dir.credentialsDir(), roles...); err != nil {
			return err
		}
		if len(roles) == 0 {
			roles = coordinator.Roles
		}
		fmt.Fprintf(c.App.Writer, "new seeds for %v in %s: restart the coordinator, then give the processes of those "+
			"roles the new files\n", roles, dir.credentialsDir())
	}
	if ticket {
		if err := coordinator.RotateTicketKey(dir.credentialsDir()); err != nil {
			return err
		}
		fmt.Fprintf(c.App.Writer, "new task ticket key in %s: restart the coordinator; results of the tasks "+
			"queued before are set aside as orphans and the tasks computed again\n", dir.credentialsDir())
	}
	return nil
}
