package sim

import (
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestResolveDataDir(t *testing.T) {
	cwd, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	envDir := t.TempDir()
	tests := []struct {
		name, arg, env, want string
	}{
		{"explicit wins", "/srv/data", envDir, "/srv/data"},
		{"relative made absolute", "some/dir", "", filepath.Join(cwd, "some/dir")},
		{"environment", "", envDir, envDir},
		{"default", "", "", filepath.Join(cwd, "data")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(DataDirEnv, tt.env)
			got, err := resolveDataDir(tt.arg)
			if err != nil || got != tt.want {
				t.Errorf("resolveDataDir(%q) with %s=%q = %q, %v; want %q", tt.arg, DataDirEnv, tt.env, got, err, tt.want)
			}
		})
	}
}

func TestLoadDatasetRandman(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Dataset = smallRandman()
	cfg.Dataset.Cutoff = 200
	cfg.DataSeed = 77
	got, err := LoadDataset(cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	want, err := GenerateRandman(cfg.Dataset, cfg.DataSeed)
	if err != nil {
		t.Fatal(err)
	}
	if datasetHash(got) != datasetHash(want) {
		t.Errorf("LoadDataset(randman) differs from GenerateRandman")
	}

	// The cache: the same pointer for the same data, whatever the fields
	// randman ignores, the network seed or the data directory.
	same := cfg
	same.Seed++
	same.Network.Hidden = []int{3, 4}
	same.Dataset.TauEff = 99
	again, err := LoadDataset(same, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if again != got {
		t.Errorf("LoadDataset with only irrelevant fields changed returned a new dataset, want the cached one")
	}
	other := cfg
	other.DataSeed++
	diff, err := LoadDataset(other, "")
	if err != nil {
		t.Fatal(err)
	}
	if diff == got || datasetHash(diff) == datasetHash(got) {
		t.Errorf("LoadDataset with another data seed returned the same data")
	}
}

func TestLoadDatasetErrors(t *testing.T) {
	tests := []struct {
		name      string
		edit      func(*Config)
		wantField string // a *FieldError for this field, or
		wantText  string // an error containing this
	}{
		{"unknown name", func(c *Config) { c.Dataset.Name = "cifar" }, "dataset.name", ""},
		{"bad steps", func(c *Config) { c.Dataset.Steps = 0 }, "dataset.steps", ""},
		{"bad randman field", func(c *Config) { c.Dataset.Cutoff = 0 }, "dataset.cutoff", ""},
		{"bad latency field", func(c *Config) { c.Dataset.Name, c.Dataset.TauEff = DatasetMNIST, -1 }, "dataset.tau_eff", ""},
		{"missing mnist", func(c *Config) { c.Dataset.Name = DatasetMNIST }, "", "mnist"},
		{"missing shd", func(c *Config) { c.Dataset.Name = DatasetSHD }, "", "shd"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tt.edit(&cfg)
			_, err := LoadDataset(cfg, t.TempDir())
			if err == nil {
				t.Fatal("LoadDataset succeeded, want an error")
			}
			var fe *FieldError
			switch {
			case tt.wantField != "" && (!errors.As(err, &fe) || fe.Field != tt.wantField):
				t.Errorf("LoadDataset error = %v, want a *FieldError for %s", err, tt.wantField)
			case tt.wantText != "" && !strings.Contains(err.Error(), tt.wantText):
				t.Errorf("LoadDataset error = %v, want it to mention %q", err, tt.wantText)
			}
		})
	}
}

func TestDatasetKeyIgnoresOtherDatasetsFields(t *testing.T) {
	tests := []struct {
		name     string
		dataset  string // the reference config's dataset name
		edit     func(*DatasetConfig)
		dataDir  string // of the edited config; the reference's is /data
		wantSame bool
	}{
		{"randman: latency threshold", DatasetRandman, func(d *DatasetConfig) { d.Threshold = 0.7 }, "/data", true},
		{"randman: data dir", DatasetRandman, func(d *DatasetConfig) {}, "/elsewhere", true},
		{"randman: alpha", DatasetRandman, func(d *DatasetConfig) { d.Alpha = 2 }, "/data", false},
		{"randman: window", DatasetRandman, func(d *DatasetConfig) { d.Window = 0.4 }, "/data", false},
		{"mnist: alpha", DatasetMNIST, func(d *DatasetConfig) { d.Alpha = 3 }, "/data", true},
		{"mnist: threshold", DatasetMNIST, func(d *DatasetConfig) { d.Threshold = 0.3 }, "/data", false},
		{"mnist: train samples", DatasetMNIST, func(d *DatasetConfig) { d.TrainSamples = 10 }, "/data", false},
		{"mnist: data dir", DatasetMNIST, func(d *DatasetConfig) {}, "/elsewhere", false},
		{"mnist vs fashion-mnist", DatasetMNIST, func(d *DatasetConfig) { d.Name = DatasetFashionMNIST }, "/data", false},
		{"shd: any field", DatasetSHD, func(d *DatasetConfig) { d.Alpha = 3 }, "/data", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref := DefaultConfig().Dataset
			ref.Name = tt.dataset
			d := ref
			tt.edit(&d)
			same := newDatasetKey(ref, 1, "/data") == newDatasetKey(d, 1, tt.dataDir)
			if same != tt.wantSame {
				t.Errorf("same cache key = %v, want %v", same, tt.wantSame)
			}
		})
	}
}

// testKey returns a distinct cache key per n.
func testKey(n int) datasetKey {
	return datasetKey{dataSeed: uint64(n)}
}

// tinyDataset returns a valid dataset of n training samples.
func tinyDataset(n int) *Dataset {
	s := newSplit(n, n)
	for range n {
		_ = s.appendSample([]uint16{0}, []uint16{0}, 0)
	}
	return &Dataset{Inputs: 1, Steps: 1, Classes: 1, Train: s}
}

func TestDatasetCacheConcurrentCallersLoadOnce(t *testing.T) {
	c := newDatasetCache(2, 1<<30)
	var loads atomic.Int32
	release := make(chan struct{})
	want := tinyDataset(1)
	const callers = 16
	got := make([]*Dataset, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			ds, err := c.get(testKey(1), func() (*Dataset, error) {
				loads.Add(1)
				<-release // hold the load until every caller is waiting
				return want, nil
			})
			if err != nil {
				t.Error(err)
			}
			got[i] = ds
		})
	}
	// Wait until all callers are either loading or waiting for the load.
	for deadline := time.Now().Add(10 * time.Second); loads.Load() == 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
	close(release)
	wg.Wait()
	if n := loads.Load(); n != 1 {
		t.Errorf("%d concurrent gets of one key loaded %d times, want 1", callers, n)
	}
	for i, ds := range got {
		if ds != want {
			t.Errorf("caller %d got %p, want the loaded dataset %p", i, ds, want)
		}
	}
}

func TestDatasetCacheLRU(t *testing.T) {
	c := newDatasetCache(2, 1<<30)
	loads := map[int]int{}
	get := func(n int) *Dataset {
		t.Helper()
		ds, err := c.get(testKey(n), func() (*Dataset, error) {
			loads[n]++
			return tinyDataset(1), nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return ds
	}
	a := get(1)
	get(2)
	if get(1) != a { // 1 is now the most recent; 2 the least
		t.Fatal("second get of key 1 returned a new dataset")
	}
	get(3) // evicts 2
	if n := c.size(); n != 2 {
		t.Errorf("cache holds %d entries, want at most 2", n)
	}
	get(1)
	get(2)
	if loads[1] != 1 || loads[2] != 2 || loads[3] != 1 {
		t.Errorf("loads per key = %v, want key 1 once, key 2 twice (evicted), key 3 once", loads)
	}
}

func TestDatasetCacheByteBound(t *testing.T) {
	one := datasetBytes(tinyDataset(100))
	c := newDatasetCache(10, 2*one)
	for n := range 5 {
		if _, err := c.get(testKey(n), func() (*Dataset, error) { return tinyDataset(100), nil }); err != nil {
			t.Fatal(err)
		}
	}
	if n := c.size(); n != 2 {
		t.Errorf("cache bounded to %d bytes holds %d datasets of %d bytes, want 2", 2*one, n, one)
	}
	// The most recent dataset stays even when it alone is over the bound.
	if _, err := c.get(testKey(9), func() (*Dataset, error) { return tinyDataset(1000), nil }); err != nil {
		t.Fatal(err)
	}
	if n := c.size(); n != 1 {
		t.Errorf("after a dataset larger than the bound, cache holds %d, want just it", n)
	}
}

func TestDatasetCacheDropsFailures(t *testing.T) {
	c := newDatasetCache(2, 1<<30)
	calls := 0
	load := func() (*Dataset, error) {
		calls++
		if calls == 1 {
			return nil, errors.New("file not there yet")
		}
		return tinyDataset(1), nil
	}
	if _, err := c.get(testKey(1), load); err == nil {
		t.Fatal("first get: want the loader's error")
	}
	if ds, err := c.get(testKey(1), load); err != nil || ds == nil {
		t.Fatalf("second get = %v, %v; want a dataset (failures are not cached)", ds, err)
	}
	if calls != 2 {
		t.Errorf("loader called %d times, want 2", calls)
	}
}

func TestDatasetCachePanicReleasesWaiters(t *testing.T) {
	c := newDatasetCache(2, 1<<30)
	started := make(chan struct{})
	release := make(chan struct{})
	go func() {
		defer func() { _ = recover() }()
		_, _ = c.get(testKey(1), func() (*Dataset, error) {
			close(started)
			<-release
			panic("boom")
		})
	}()
	<-started
	waited := make(chan error, 1)
	go func() {
		_, err := c.get(testKey(1), func() (*Dataset, error) { return tinyDataset(1), nil })
		waited <- err
	}()
	time.Sleep(20 * time.Millisecond)
	close(release)
	select {
	case err := <-waited:
		// Either it waited on the panicking load (an error) or came after
		// it and loaded anew (no error); both are fine, hanging is not.
		_ = err
	case <-time.After(10 * time.Second):
		t.Fatal("a caller waiting on a panicking load never returned")
	}
}
