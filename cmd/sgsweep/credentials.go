package main

import (
	"fmt"
	"os"

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
			"the new files: processes with the old ones are refused and exit naming the file they used.",
		Flags:  []cli.Flag{dataDirFlag()},
		Action: runCredentials,
		Subcommands: []*cli.Command{{
			Name:      "rotate",
			Usage:     "replace the seeds of the given roles (all without arguments)",
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
	return nil
}

func runRotate(c *cli.Context) error {
	var roles []coordinator.Role
	for _, a := range c.Args().Slice() {
		if _, err := coordinator.RolePermissions(coordinator.Role(a), ""); err != nil {
			return usageError{err}
		}
		roles = append(roles, coordinator.Role(a))
	}
	dir := dataDirOf(c)
	if err := coordinator.RotateCredentials(dir.credentialsDir(), roles...); err != nil {
		return err
	}
	if len(roles) == 0 {
		roles = coordinator.Roles
	}
	fmt.Fprintf(c.App.Writer, "new seeds for %v in %s: restart the coordinator, then give the processes of those "+
		"roles the new files\n", roles, dir.credentialsDir())
	return nil
}
