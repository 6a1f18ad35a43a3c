package main

import (
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/sgsweep/sgsweep/internal/datafetch"
	"github.com/sgsweep/sgsweep/sim"
	"github.com/sgsweep/sgsweep/sweep"
)

func init() { commands = append(commands, dataCommand) }

// mirrorEnv names the environment variable of --mirror.
const mirrorEnv = "SGSWEEP_DATA_MIRROR"

func dataCommand() *cli.Command {
	return &cli.Command{
		Name:  "data",
		Usage: "download the MNIST, Fashion-MNIST and SHD files (get) and check them (list)",
		Description: "The files go to DIR/mnist/, DIR/fashion-mnist/ and DIR/shd/, the layout the loaders read,\n" +
			"where DIR is --dataset-dir (SGSWEEP_DATA, default ./data). randman is generated: nothing to get.",
		Subcommands: []*cli.Command{
			{
				Name:      "get",
				Usage:     "download data sets' official files, checked against their pinned SHA-256",
				ArgsUsage: "mnist|fashion-mnist|shd...",
				Description: "Each file is downloaded to FILE.part and moved into place once its SHA-256 (SHD, which has\n" +
					"none published: its gzip CRC) is right; files already present and right are kept. An\n" +
					"interrupted download resumes where it stopped (HTTP Range) when run again. --mirror URL takes\n" +
					"the files from URL/<dataset>/<file> instead (a copy of a data directory, e.g. served by\n" +
					"`python3 -m http.server` in DIR).",
				Flags: []cli.Flag{
					datasetDirFlag(),
					&cli.StringFlag{Name: "mirror", Usage: "base `URL` of a mirror: files at URL/<dataset>/<file>",
						EnvVars: []string{mirrorEnv}},
					&cli.DurationFlag{Name: "stall-timeout", Value: datafetch.DefaultStallTimeout,
						Usage: "fail a download that receives nothing for this long", EnvVars: []string{"SGSWEEP_DATA_STALL_TIMEOUT"}},
				},
				Action: runDataGet,
			},
			{
				Name:        "list",
				Usage:       "show each data set's files as present, missing or corrupt, with sizes",
				Description: "Checks every file present against its pinned SHA-256 (SHD: its gzip CRC).",
				Flags:       []cli.Flag{datasetDirFlag()},
				Action:      runDataList,
			},
		},
	}
}

func runDataGet(c *cli.Context) error {
	if c.NArg() == 0 {
		return usageError{fmt.Errorf("data get takes the data sets to download: %s", datasetNames())}
	}
	var sources []sim.DataSource
	for _, name := range c.Args().Slice() {
		src, ok := sim.DataSourceOf(name)
		if !ok {
			return usageError{fmt.Errorf("data get: no data set %q to download; one of %s (randman is generated)", name, datasetNames())}
		}
		sources = append(sources, src)
	}
	root, err := sim.DataDir(c.String("dataset-dir"))
	if err != nil {
		return err
	}
	mirror := strings.TrimRight(c.String("mirror"), "/")
	show := newFetchDisplay(c.App.ErrWriter)
	defer show.close()
	f := &datafetch.Fetcher{StallTimeout: c.Duration("stall-timeout"), OnProgress: show.progress}
	for _, src := range sources {
		dir := filepath.Join(root, src.Dataset)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		base := src.BaseURL
		if mirror != "" {
			base = mirror + "/" + src.Dataset
		}
		for _, df := range src.Files {
			dest := filepath.Join(dir, df.Name)
			label := src.Dataset + "/" + df.Name
			if st := localState(dest, df); st.state == statePresent {
				show.done(label, fmt.Sprintf("present, %s, %s", formatBytes(st.size), st.detail))
				continue
			}
			file := datafetch.File{URL: base + "/" + df.Path, Dest: dest, SHA256: df.SHA256, Size: df.Size}
			show.start(label, file)
			res, err := f.Fetch(c.Context, file)
			if err != nil {
				show.fail()
				return dataGetError(err, src.Dataset, c.String("mirror"))
			}
			show.done(label, downloadedLine(res, show.elapsed(), df))
		}
	}
	fmt.Fprintf(c.App.Writer, "%s in %s\n", strings.Join(c.Args().Slice(), ", "), root)
	return nil
}

// dataGetError adds to a download error what to do about it.
func dataGetError(err error, dataset, mirror string) error {
	var ue *datafetch.UnreachableError
	switch {
	case errors.As(err, &ue) && mirror == "":
		return fmt.Errorf("data get %s: %w; behind a firewall, point --mirror (%s) at a copy", dataset, err, mirrorEnv)
	case errors.Is(err, datafetch.ErrDiskFull):
		return fmt.Errorf("data get %s: %w; free space, or choose another --dataset-dir", dataset, err)
	}
	return fmt.Errorf("data get %s: %w", dataset, err)
}

// downloadedLine describes a finished download.
func downloadedLine(res *datafetch.Result, took time.Duration, df sim.DataFile) string {
	line := fmt.Sprintf("%s in %s (%s/s)", formatBytes(res.Bytes), took.Round(100*time.Millisecond),
		formatBytes(int64(float64(res.Bytes-res.Resumed)/max(took.Seconds(), 1e-3))))
	if res.Resumed > 0 {
		line += fmt.Sprintf(", resumed after %s", formatBytes(res.Resumed))
	}
	if res.Pinned {
		return line + ", SHA-256 ok"
	}
	return line + fmt.Sprintf(", SHA-256 %s (none pinned: %s)", res.SHA256, df.Unpinned)
}

// Local states of a data set's file.
const (
	statePresent = "present"
	stateMissing = "missing"
	stateCorrupt = "corrupt"
)

// fileState is a data set's file as found on disk.
type fileState struct {
	state  string // statePresent, stateMissing or stateCorrupt
	size   int64
	detail string // how it was checked, or what is wrong
}

// localState checks the file of df at path: its SHA-256 when pinned, else
// its gzip stream. A plain (gunzipped) copy beside a missing .gz file
// counts as present, unchecked; a .part file is reported as missing with
// its size.
func localState(path string, df sim.DataFile) fileState {
	fi, err := os.Stat(path)
	if err != nil {
		plain := strings.TrimSuffix(path, ".gz")
		if pfi, perr := os.Stat(plain); perr == nil && plain != path {
			return fileState{statePresent, pfi.Size(), "gunzipped copy " + filepath.Base(plain) + ", not checked"}
		}
		if pfi, perr := os.Stat(path + datafetch.PartSuffix); perr == nil {
			return fileState{stateMissing, pfi.Size(), "partly downloaded: data get resumes it"}
		}
		if errors.Is(err, os.ErrNotExist) {
			return fileState{stateMissing, 0, ""}
		}
		return fileState{stateCorrupt, 0, err.Error()}
	}
	if df.SHA256 == "" {
		if err := datafetch.CheckGzip(path); err != nil {
			return fileState{stateCorrupt, fi.Size(), "gzip: " + err.Error()}
		}
		return fileState{statePresent, fi.Size(), "gzip CRC ok (no SHA-256 pinned)"}
	}
	sum, size, err := datafetch.Sum(path)
	switch {
	case err != nil:
		return fileState{stateCorrupt, fi.Size(), err.Error()}
	case sum != df.SHA256:
		return fileState{stateCorrupt, size, fmt.Sprintf("SHA-256 %s, expected %s", sum, df.SHA256)}
	}
	return fileState{statePresent, size, "SHA-256 ok"}
}

func runDataList(c *cli.Context) error {
	if c.NArg() > 0 {
		return usageError{fmt.Errorf("data list takes no arguments, got %q", c.Args().Slice())}
	}
	root, err := sim.DataDir(c.String("dataset-dir"))
	if err != nil {
		return err
	}
	w := c.App.Writer
	fmt.Fprintf(w, "data sets in %s:\n", root)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	var fix []string
	for _, src := range sim.DataSources {
		worst := statePresent
		var rows []string
		var total int64
		for _, df := range src.Files {
			st := localState(filepath.Join(root, src.Dataset, df.Name), df)
			total += st.size
			if st.state != statePresent && worst != stateCorrupt {
				worst = st.state
			}
			size := "-"
			if st.size > 0 {
				size = formatBytes(st.size)
			}
			rows = append(rows, fmt.Sprintf("  %s\t%s\t%s\t%s", df.Name, size, st.state, st.detail))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", src.Dataset, formatBytes(total), worst)
		for _, r := range rows {
			fmt.Fprintln(tw, r)
		}
		if worst != statePresent {
			fix = append(fix, src.Dataset)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(fix) > 0 {
		fmt.Fprintf(w, "to download: sgsweep data get %s --dataset-dir %s\n", strings.Join(fix, " "), shellQuote(root))
	}
	return nil
}

// checkDatasets checks that the files of every data set the tasks read are
// in dataDir (see sim.CheckDataFiles); the error names the command that
// downloads what is missing.
func checkDatasets(tasks iter.Seq2[sweep.Task, error], dataDir string) error {
	seen := map[string]bool{}
	for t, err := range tasks {
		if err != nil {
			return err
		}
		name := t.Config.Dataset.Name
		if seen[name] {
			continue
		}
		seen[name] = true
		if err := sim.CheckDataFiles(name, dataDir); err != nil {
			return err
		}
	}
	return nil
}

// datasetNames lists the data sets that have files.
func datasetNames() string {
	names := make([]string, len(sim.DataSources))
	for i, s := range sim.DataSources {
		names[i] = s.Dataset
	}
	return strings.Join(names, ", ")
}

// formatBytes renders n bytes in decimal units: "980 B", "9.9 MB".
func formatBytes(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	f, prefix := float64(n), "kMGT"
	i := -1
	for f >= unit && i < len(prefix)-1 {
		f /= unit
		i++
	}
	return fmt.Sprintf("%.1f %cB", f, prefix[i])
}

// fetchDisplay shows downloads: on a terminal a live line per file (bar,
// bytes, rate, ETA), then a line when it is done; elsewhere only the
// latter, one line per file.
type fetchDisplay struct {
	w       io.Writer
	area    *statusArea // nil off a terminal
	label   string
	started time.Time
	drawn   time.Time
	base    int64 // bytes of the .part file the download continues
}

func newFetchDisplay(w io.Writer) *fetchDisplay {
	d := &fetchDisplay{w: w}
	if isTerminal(w) {
		d.area = newStatusArea(w)
		d.w = d.area
	}
	return d
}

func (d *fetchDisplay) start(label string, f datafetch.File) {
	d.label, d.started, d.drawn, d.base = label, time.Now(), time.Time{}, 0
	if fi, err := os.Stat(f.Dest + datafetch.PartSuffix); err == nil {
		d.base = fi.Size()
	}
	if d.area != nil {
		d.area.Set(label + "  connecting to " + f.URL)
	}
}

func (d *fetchDisplay) elapsed() time.Duration { return time.Since(d.started) }

// progress draws the live line, at most every 100 ms.
func (d *fetchDisplay) progress(_ datafetch.File, p datafetch.Progress) {
	if d.area == nil || time.Since(d.drawn) < 100*time.Millisecond && p.Done != p.Total {
		return
	}
	d.drawn = time.Now()
	d.base = min(d.base, p.Done) // a restart from 0 keeps nothing
	d.area.Set(fetchLine(d.label, p, p.Done-d.base, time.Since(d.started)))
}

// fetchLine is "mnist/x.gz [#####-----] 4.1 MB / 9.9 MB · 2.0 MB/s · ETA 3s",
// the rate being the bytes received in this run over elapsed.
func fetchLine(label string, p datafetch.Progress, received int64, elapsed time.Duration) string {
	rate := float64(received) / max(elapsed.Seconds(), 1e-3)
	if p.Total <= 0 {
		return fmt.Sprintf("%s  %s · %s/s", label, formatBytes(p.Done), formatBytes(int64(rate)))
	}
	const width = 20
	filled := int(width * p.Done / p.Total)
	eta := formatETA(float64(p.Total-p.Done) / max(rate, 1))
	return fmt.Sprintf("%s [%s%s] %s / %s · %s/s · ETA %s", label, strings.Repeat("#", filled),
		strings.Repeat("-", width-filled), formatBytes(p.Done), formatBytes(p.Total), formatBytes(int64(rate)), eta)
}

// done prints the file's final line.
func (d *fetchDisplay) done(label, what string) {
	if d.area != nil {
		d.area.Set()
	}
	fmt.Fprintf(d.w, "%s: %s\n", label, what)
}

// fail clears the live line before the error is printed.
func (d *fetchDisplay) fail() {
	if d.area != nil {
		d.area.Set()
	}
}

func (d *fetchDisplay) close() {
	if d.area != nil {
		d.area.Close()
	}
}
