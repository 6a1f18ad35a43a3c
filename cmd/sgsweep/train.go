package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"
	"go.yaml.in/yaml/v3"

	"github.com/sgsweep/sgsweep/sim"
)

func init() { commands = append(commands, trainCommand) }

// trainFlag is a shortcut flag of `sgsweep train` and how it sets its
// Config field.
type trainFlag struct {
	flag  cli.Flag
	apply func(c *cli.Context, cfg *sim.Config) error
}

// trainFlags returns the shortcut flags of `sgsweep train`, new instances on
// every call (urfave/cli stores what it parses, environment variables
// included, in the flag itself, so an instance must not outlive its app).
// Each is applied only when given (on the command line or through its
// environment variable), after the config file.
func trainFlags() []trainFlag {
	d := sim.DefaultConfig()
	return []trainFlag{
		{&cli.StringFlag{Name: "dataset", Usage: "dataset.name: randman, mnist, fashion-mnist or shd", DefaultText: defaultText(d.Dataset.Name), EnvVars: []string{"SGSWEEP_DATASET"}},
			func(c *cli.Context, cfg *sim.Config) error { cfg.Dataset.Name = c.String("dataset"); return nil }},
		{&cli.StringFlag{Name: "shape", Usage: "surrogate.shape: " + strings.Join(sim.SurrogateNames(), ", "), DefaultText: defaultText(d.Surrogate.Shape), EnvVars: []string{"SGSWEEP_SHAPE"}},
			func(c *cli.Context, cfg *sim.Config) error { cfg.Surrogate.Shape = c.String("shape"); return nil }},
		{&cli.Float64Flag{Name: "scale", Usage: "surrogate.scale β ≥ 0", DefaultText: defaultText(d.Surrogate.Scale), EnvVars: []string{"SGSWEEP_SCALE"}},
			func(c *cli.Context, cfg *sim.Config) error { cfg.Surrogate.Scale = c.Float64("scale"); return nil }},
		{&cli.Float64Flag{Name: "lr", Usage: "train.lr: Adam's learning rate", DefaultText: defaultText(d.Train.LR), EnvVars: []string{"SGSWEEP_LR"}},
			func(c *cli.Context, cfg *sim.Config) error { cfg.Train.LR = c.Float64("lr"); return nil }},
		{&cli.IntFlag{Name: "epochs", Usage: "train.epochs", DefaultText: defaultText(d.Train.Epochs), EnvVars: []string{"SGSWEEP_EPOCHS"}},
			func(c *cli.Context, cfg *sim.Config) error { cfg.Train.Epochs = c.Int("epochs"); return nil }},
		{&cli.IntFlag{Name: "batch", Usage: "train.batch: minibatch size", DefaultText: defaultText(d.Train.Batch), EnvVars: []string{"SGSWEEP_BATCH"}},
			func(c *cli.Context, cfg *sim.Config) error { cfg.Train.Batch = c.Int("batch"); return nil }},
		{&cli.StringFlag{Name: "hidden", Usage: "network.hidden: layer widths, comma-separated (e.g. 100 or 128,64)", DefaultText: defaultText(d.Network.Hidden), EnvVars: []string{"SGSWEEP_HIDDEN"}},
			func(c *cli.Context, cfg *sim.Config) error {
				var widths []int
				for _, f := range strings.Split(c.String("hidden"), ",") {
					w, err := strconv.Atoi(strings.TrimSpace(f))
					if err != nil {
						return fmt.Errorf("--hidden %q: want comma-separated integers", c.String("hidden"))
					}
					widths = append(widths, w)
				}
				cfg.Network.Hidden = widths
				return nil
			}},
		{&cli.BoolFlag{Name: "recurrent", Usage: "network.recurrent: recurrent weights in each hidden layer", DefaultText: defaultText(d.Network.Recurrent), EnvVars: []string{"SGSWEEP_RECURRENT"}},
			func(c *cli.Context, cfg *sim.Config) error { cfg.Network.Recurrent = c.Bool("recurrent"); return nil }},
		{&cli.StringFlag{Name: "reset", Usage: "network.reset: detached or differentiable", DefaultText: defaultText(d.Network.Reset), EnvVars: []string{"SGSWEEP_RESET"}},
			func(c *cli.Context, cfg *sim.Config) error { cfg.Network.Reset = c.String("reset"); return nil }},
		{&cli.StringFlag{Name: "recurrent-grad", Usage: "network.recurrent_grad: propagate or detached", DefaultText: defaultText(d.Network.RecurrentGrad), EnvVars: []string{"SGSWEEP_RECURRENT_GRAD"}},
			func(c *cli.Context, cfg *sim.Config) error {
				cfg.Network.RecurrentGrad = c.String("recurrent-grad")
				return nil
			}},
		{&cli.StringFlag{Name: "readout", Usage: "network.readout: max, mean or last", DefaultText: defaultText(d.Network.Readout), EnvVars: []string{"SGSWEEP_READOUT"}},
			func(c *cli.Context, cfg *sim.Config) error { cfg.Network.Readout = c.String("readout"); return nil }},
		{&cli.StringFlag{Name: "numerics", Usage: "numerics: float64 or float32, the type weights, state and gradients are computed in", DefaultText: string(sim.NumericsFloat64), EnvVars: []string{"SGSWEEP_NUMERICS"}},
			func(c *cli.Context, cfg *sim.Config) error {
				cfg.Numerics = sim.Numerics(c.String("numerics"))
				return nil
			}},
		{&cli.Uint64Flag{Name: "seed", Usage: "seed: network initialisation and minibatch order", DefaultText: defaultText(d.Seed), EnvVars: []string{"SGSWEEP_SEED"}},
			func(c *cli.Context, cfg *sim.Config) error { cfg.Seed = c.Uint64("seed"); return nil }},
		{&cli.Uint64Flag{Name: "data-seed", Usage: "data_seed: dataset generation and splits", DefaultText: defaultText(d.DataSeed), EnvVars: []string{"SGSWEEP_DATA_SEED"}},
			func(c *cli.Context, cfg *sim.Config) error { cfg.DataSeed = c.Uint64("data-seed"); return nil }},
	}
}

// defaultText is the help text of a shortcut flag's default v, its value in
// sim.DefaultConfig (which the config file may change).
func defaultText(v any) string {
	if widths, ok := v.([]int); ok {
		return strings.Trim(strings.Join(strings.Fields(fmt.Sprint(widths)), ","), "[]")
	}
	return fmt.Sprint(v)
}

func trainCommand() *cli.Command {
	flags := []cli.Flag{
		&cli.StringSliceFlag{Name: "set", Usage: "set any config field: `PATH=VALUE` (YAML value, e.g. regularizer.upper.strength=0.1 or network.hidden=[128,64]); repeatable, applied last (in the environment variable, separate entries by commas)", EnvVars: []string{"SGSWEEP_SET"}},
		&cli.BoolFlag{Name: "json", Usage: "print JSON lines: one per epoch, then the result", EnvVars: []string{"SGSWEEP_JSON"}},
		&cli.IntFlag{Name: "threads", Usage: "goroutines for the run (0: all cores); does not change the result", EnvVars: []string{"SGSWEEP_THREADS"}},
		datasetDirFlag(),
	}
	for _, f := range trainFlags() {
		flags = append(flags, f.flag)
	}
	return &cli.Command{
		Name:      "train",
		Usage:     "run one training in the foreground and print its learning curve",
		ArgsUsage: "[CONFIG.yaml]",
		Description: "Starts from the paper's Randman setup (sim.DefaultConfig), then applies the YAML config\n" +
			"file (keys as in sweep specs: surrogate.shape, train.lr, network.hidden, …), then the flags,\n" +
			"then --set. Prints a line per epoch and the final metrics; exits with status 2 on an\n" +
			"invalid config. A diverged run (NaN loss) is a result, not an error.",
		Flags:  flags,
		Action: runTrain,
	}
}

// usageError is an invalid command line or config: exit status 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }
func (e usageError) ExitCode() int { return 2 }

func runTrain(c *cli.Context) error {
	if c.NArg() > 1 {
		return usageError{fmt.Errorf("train takes at most one config file, got %d arguments", c.NArg())}
	}
	cfg, err := trainConfig(c)
	if err != nil {
		return usageError{err}
	}
	if err := cfg.Validate(); err != nil {
		return usageError{fmt.Errorf("invalid config:\n%w", err)}
	}
	logger, err := newLogger(c)
	if err != nil {
		return usageError{err}
	}
	logger.Info("training", "dataset", cfg.Dataset.Name, "hidden", cfg.Network.Hidden,
		"surrogate", cfg.Surrogate.Shape, "scale", cfg.Surrogate.Scale, "lr", cfg.Train.LR,
		"epochs", cfg.Train.Epochs, "seed", cfg.Seed, "data_seed", cfg.DataSeed)

	out := c.App.Writer
	asJSON := c.Bool("json")
	opts := sim.Options{
		Threads: c.Int("threads"),
		DataDir: c.String("dataset-dir"),
		OnEpoch: func(e sim.Epoch, seconds float64) {
			if asJSON {
				writeJSONLine(out, struct {
					sim.Epoch
					Seconds float64 `json:"seconds"`
				}{e, seconds})
				return
			}
			fmt.Fprintf(out, "epoch %3d/%d  loss %.4f  train %5.1f%%  val %5.1f%%  spikes %s  silent %s  %.2fs\n",
				e.Epoch, cfg.Train.Epochs, e.TrainLoss, 100*e.TrainAcc, 100*e.ValAcc,
				formatList(e.Spikes, "%.2f"), formatList(e.Silent, "%.2f"), seconds)
		},
	}
	res, timing, err := sim.Train(c.Context, cfg, opts)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return fmt.Errorf("training interrupted: %w", err)
		}
		return fmt.Errorf("train: %w", err)
	}
	if asJSON {
		writeJSONLine(out, struct {
			Status  string             `json:"status"`
			Metrics map[string]float64 `json:"metrics"`
			Timing  *sim.Timing        `json:"timing"`
		}{res.Status, res.Metrics(), timing})
		return nil
	}
	var total float64
	for _, s := range timing.EpochSeconds {
		total += s
	}
	fmt.Fprintf(out, "status %s: test accuracy %.2f%% at best epoch %d (val %.2f%%), %.2f%% after the last epoch; %.1fs training, %.1fs data\n",
		res.Status, 100*res.TestAcc, res.BestEpoch, 100*res.BestValAcc, 100*res.TestAccLast, total, timing.DataSeconds)
	return nil
}

// trainConfig builds the Config of a train command line: DefaultConfig,
// then the config file, then the shortcut flags, then --set.
func trainConfig(c *cli.Context) (sim.Config, error) {
	cfg := sim.DefaultConfig()
	if path := c.Args().First(); path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return cfg, err
		}
		if err := decodeConfigYAML(data, &cfg); err != nil {
			return cfg, fmt.Errorf("%s: %w", path, err)
		}
	}
	for _, f := range trainFlags() {
		if name := f.flag.Names()[0]; c.IsSet(name) {
			if err := f.apply(c, &cfg); err != nil {
				return cfg, err
			}
		}
	}
	for _, set := range c.StringSlice("set") {
		if err := setConfigPath(&cfg, set); err != nil {
			return cfg, fmt.Errorf("--set %s: %w", set, err)
		}
	}
	return cfg, nil
}

// decodeConfigYAML decodes YAML onto cfg: keys are Config's field names
// (the JSON ones); an unknown key or a wrong type is an error naming it and
// its line.
func decodeConfigYAML(data []byte, cfg *sim.Config) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

// setConfigPath applies one PATH=VALUE assignment: VALUE is YAML, PATH the
// dotted field path (e.g. regularizer.upper.strength).
func setConfigPath(cfg *sim.Config, assignment string) error {
	path, value, ok := strings.Cut(assignment, "=")
	if !ok || path == "" {
		return fmt.Errorf("want PATH=VALUE")
	}
	var val yaml.Node
	if err := yaml.Unmarshal([]byte(value), &val); err != nil {
		return fmt.Errorf("value: %w", err)
	}
	node := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
	if len(val.Content) > 0 {
		node = val.Content[0]
	}
	keys := strings.Split(path, ".")
	for i := len(keys) - 1; i >= 0; i-- {
		node = &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{
			{Kind: yaml.ScalarNode, Value: keys[i]}, node}}
	}
	doc, err := yaml.Marshal(node)
	if err != nil {
		return err
	}
	return decodeConfigYAML(doc, cfg)
}

func writeJSONLine(w io.Writer, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Results hold only finite numbers and strings.
		panic(fmt.Sprintf("train: encoding %T: %v", v, err))
	}
	w.Write(append(b, '\n'))
}

func formatList(xs []float64, format string) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = fmt.Sprintf(format, x)
	}
	return strings.Join(parts, ",")
}
