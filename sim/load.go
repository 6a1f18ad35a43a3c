package sim

import (
	"fmt"
	"os"
	"path/filepath"
)

// DataDirEnv is the environment variable LoadDataset reads when it is given
// no data directory.
const DataDirEnv = "SGSWEEP_DATA"

// LoadDataset returns the dataset cfg.Dataset names, built from cfg.Dataset
// and cfg.DataSeed (cfg's other fields are ignored):
//
//   - randman is generated (GenerateRandman); dataDir is not used;
//   - mnist and fashion-mnist are read from IDX files under dataDir and
//     latency-coded (see loadIDXDataset for the file layout);
//   - shd is read from HDF5 files under dataDir.
//
// dataDir "" means $SGSWEEP_DATA, or ./data if that is unset or empty. (This
// is the one place outside cmd/ that reads the environment: workers share
// one data directory, configured once.)
//
// Results are cached per process (see datasetCache): calls with the same
// dataset fields that matter for the named dataset, data seed and data
// directory return the same *Dataset, generated or read once even when the
// calls are concurrent. The returned Dataset is therefore shared: callers
// must treat it as read-only and never modify its slices.
func LoadDataset(cfg Config, dataDir string) (*Dataset, error) {
	if err := validateDataset(cfg.Dataset); err != nil {
		return nil, err
	}
	dir, err := resolveDataDir(dataDir)
	if err != nil {
		return nil, err
	}
	key := newDatasetKey(cfg.Dataset, cfg.DataSeed, dir)
	return sharedDatasets.get(key, func() (*Dataset, error) {
		return loadDatasetUncached(cfg, dir)
	})
}

// loadDatasetUncached builds the dataset without the cache; dataDir is
// already resolved. A missing file's error names the command that
// downloads the dataset.
func loadDatasetUncached(cfg Config, dataDir string) (*Dataset, error) {
	switch cfg.Dataset.Name {
	case DatasetRandman:
		return GenerateRandman(cfg.Dataset, cfg.DataSeed)
	case DatasetMNIST, DatasetFashionMNIST:
		ds, err := loadIDXDataset(cfg, dataDir)
		return ds, withGetHint(err, cfg.Dataset.Name, dataDir)
	case DatasetSHD:
		ds, err := loadSHD(cfg, dataDir)
		return ds, withGetHint(err, cfg.Dataset.Name, dataDir)
	}
	return nil, &FieldError{Field: "dataset.name", Msg: fmt.Sprintf("no loader for %q", cfg.Dataset.Name)}
}

// validateDataset checks the dataset fields with Config.Validate, whose
// other fields it takes from DefaultConfig.
func validateDataset(d DatasetConfig) error {
	c := DefaultConfig()
	c.Dataset = d
	return c.Validate()
}

// resolveDataDir returns the absolute data directory that dataDir names.
func resolveDataDir(dataDir string) (string, error) {
	if dataDir == "" {
		dataDir = os.Getenv(DataDirEnv)
	}
	if dataDir == "" {
		dataDir = "data"
	}
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		return "", fmt.Errorf("data directory %s: %w", dataDir, err)
	}
	return abs, nil
}

// datasetKey identifies a dataset in the cache: the dataset fields that the
// named dataset uses (the others zeroed, so that e.g. randman's alpha does
// not split mnist's cache entries), the data seed and the data directory
// (empty for randman, which reads no files).
type datasetKey struct {
	dataset  DatasetConfig
	dataSeed uint64
	dataDir  string
}

func newDatasetKey(d DatasetConfig, dataSeed uint64, dataDir string) datasetKey {
	switch d.Name {
	case DatasetRandman:
		d.Threshold, d.TauEff, d.Duration, d.TrainSamples, d.TestSamples = 0, 0, 0, 0, 0
		dataDir = ""
	case DatasetMNIST, DatasetFashionMNIST:
		d.Classes, d.Units, d.Dim, d.Alpha, d.Cutoff, d.SamplesPerClass, d.Window, d.TestFraction, d.Duration = 0, 0, 0, 0, 0, 0, 0, 0, 0
	}
	return datasetKey{dataset: d, dataSeed: dataSeed, dataDir: dataDir}
}
