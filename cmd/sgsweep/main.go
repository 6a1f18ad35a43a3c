// Command sgsweep runs systematic surrogate-gradient studies of spiking
// networks: it expands sweep specs into training tasks, runs them on workers
// over NATS JetStream, stores the results in bbolt and aggregates, exports
// and plots them. See the README for the commands.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"
)

// commands holds the constructor of every subcommand; each command's file
// appends its own in an init function, so that commands live one per file.
// Each app builds its commands afresh: urfave/cli keeps the values its flags
// read in the flag objects.
var commands []func() *cli.Command

// exitCoder is an error that asks for a specific process exit status.
type exitCoder interface{ ExitCode() int }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "sgsweep:", err)
		os.Exit(exitCode(err))
	}
}

// exitCode is the process exit status for a command's error: the one an
// exitCoder asks for, else 1.
func exitCode(err error) int {
	var ec exitCoder
	if errors.As(err, &ec) {
		return ec.ExitCode()
	}
	return 1
}

// run executes the command line args (args[0] is the program name). It is
// what end-to-end tests drive.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	app := newApp(stdout, stderr)
	return app.RunContext(ctx, flagsFirst(app, args))
}

// flagsFirst moves a (sub)command's flags ahead of its arguments, so that
// `sgsweep run spec.yaml --workers 2` works like `sgsweep run --workers 2
// spec.yaml` (urfave/cli stops reading flags at the first argument).
// Everything after "--" stays as it is.
func flagsFirst(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	// Skip the program name and the global flags up to the subcommand.
	i := 1
	for i < len(args) && strings.HasPrefix(args[i], "-") {
		if takesValue(app.Flags, args[i]) {
			i++
		}
		i++
	}
	if i >= len(args) {
		return args
	}
	cmd := app.Command(args[i])
	if cmd == nil {
		return args
	}
	for i+1 < len(args) && cmd.Command(args[i+1]) != nil { // `data get`
		i, cmd = i+1, cmd.Command(args[i+1])
	}
	out := slices.Clone(args[:i+1])
	var positional []string
	for j := i + 1; j < len(args); j++ {
		a := args[j]
		switch {
		case a == "--":
			positional = append(positional, args[j:]...)
			j = len(args)
		case strings.HasPrefix(a, "-") && a != "-":
			out = append(out, a)
			if takesValue(cmd.Flags, a) && j+1 < len(args) {
				j++
				out = append(out, args[j])
			}
		default:
			positional = append(positional, a)
		}
	}
	return append(out, positional...)
}

// takesValue reports whether arg (e.g. "--workers" or "-o") names a flag
// among flags that reads the next argument as its value.
func takesValue(flags []cli.Flag, arg string) bool {
	name := strings.TrimLeft(arg, "-")
	if strings.Contains(name, "=") {
		return false
	}
	for _, f := range flags {
		if !slices.Contains(f.Names(), name) {
			continue
		}
		_, isBool := f.(*cli.BoolFlag)
		return !isBool
	}
	return false
}

// newApp builds the CLI. Output goes to stdout and stderr only.
func newApp(stdout, stderr io.Writer) *cli.App {
	cmds := make([]*cli.Command, len(commands))
	for i, build := range commands {
		cmds[i] = build()
	}
	slices.SortFunc(cmds, func(a, b *cli.Command) int { return strings.Compare(a.Name, b.Name) })
	return &cli.App{
		Name:  "sgsweep",
		Usage: "systematic surrogate-gradient studies of spiking networks",
		Description: "Expands a sweep spec into training runs of LIF networks, runs them on workers\n" +
			"over NATS JetStream, stores results in bbolt, and aggregates, exports and plots them.",
		Version:              buildVersion(),
		Writer:               stdout,
		ErrWriter:            stderr,
		Commands:             cmds,
		Suggest:              true,
		EnableBashCompletion: true,
		HideHelpCommand:      true,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "log-format", Value: "text", Usage: "log format: text or json", EnvVars: []string{"SGSWEEP_LOG_FORMAT"}},
			&cli.StringFlag{Name: "log-level", Value: "info", Usage: "log level: debug, info, warn or error", EnvVars: []string{"SGSWEEP_LOG_LEVEL"}},
		},
		// Errors are printed once, by main; urfave/cli must not exit itself.
		ExitErrHandler: func(*cli.Context, error) {},
	}
}

// newLogger returns the logger the global flags ask for, writing to the
// app's error writer.
func newLogger(c *cli.Context) (*slog.Logger, error) {
	h, err := newLogHandler(c, c.App.ErrWriter)
	if err != nil {
		return nil, err
	}
	return slog.New(h), nil
}

// newLogHandler returns a handler of the format and level the global flags
// ask for, writing to w.
func newLogHandler(c *cli.Context, w io.Writer) (slog.Handler, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.String("log-level"))); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch c.String("log-format") {
	case "text":
		return slog.NewTextHandler(w, opts), nil
	case "json":
		return slog.NewJSONHandler(w, opts), nil
	default:
		return nil, fmt.Errorf("--log-format: %q is not one of text, json", c.String("log-format"))
	}
}
