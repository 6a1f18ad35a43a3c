package sim

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
)

// DataSource is where a dataset's official files come from: one base URL
// and the files under it, which `sgsweep data get` downloads into
// <dataDir>/<Dataset>/ under their Name, the layout LoadDataset reads.
type DataSource struct {
	// Dataset is the dataset's name (DatasetMNIST, …).
	Dataset string
	// BaseURL is the distribution's directory; a file's URL is
	// BaseURL + "/" + its Path. A mirror replaces it with
	// MIRROR/<Dataset>: a mirror is a copy of a data directory.
	BaseURL string
	// Files are the files the loader reads, as distributed.
	Files []DataFile
}

// DataFile is one file of a DataSource.
type DataFile struct {
	// Name is the file's name in <dataDir>/<dataset>/ and on a mirror.
	Name string
	// Path is the file's URL path under the source's BaseURL.
	Path string
	// SHA256 is the hex SHA-256 of the file as distributed, or "" when no
	// published value exists: then Unpinned says why, and a download can
	// only be checked by its format (a .gz file's CRC-32), not by its sum.
	SHA256 string
	// Size is the file's size in bytes, or 0 when not published.
	Size int64
	// Unpinned is the reason SHA256 is "" (empty whenever SHA256 is set).
	Unpinned string
}

// DataSources are the datasets that are read from files, in the order
// `sgsweep data list` shows them. Randman is generated and has none.
//
// Sources of the pinned values (SHA-256 and size of the .gz files as
// distributed):
//   - MNIST: the project's shared data (its README lists the sums) and
//     TensorFlow Datasets' url_checksums/mnist.txt, which agree; the files
//     are served by the Google-hosted copy TFDS and Keras use, as the
//     original host no longer serves them reliably.
//   - Fashion-MNIST: TensorFlow Datasets' url_checksums/fashion_mnist.txt
//     for the URLs of the Zalando Research README (plain HTTP: that host
//     serves no HTTPS; the pinned sums make up for it). One third-party
//     script lists other sums for a re-hosted copy; the official files are
//     the ones TFDS downloads and checks.
//   - SHD: no SHA-256 is published (zenkelab.org publishes an md5sums.txt
//     beside the files, and third-party loaders quote different MD5 values
//     for what may be different uploads), so the files are unpinned; a
//     download is checked by gunzipping it (gzip's CRC-32 and length).
var DataSources = []DataSource{
	{
		Dataset: DatasetMNIST,
		BaseURL: "https://storage.googleapis.com/cvdf-datasets/mnist",
		Files: []DataFile{
			pinned("train-images-idx3-ubyte.gz", 9912422, "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"),
			pinned("train-labels-idx1-ubyte.gz", 28881, "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"),
			pinned("t10k-images-idx3-ubyte.gz", 1648877, "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"),
			pinned("t10k-labels-idx1-ubyte.gz", 4542, "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"),
		},
	},
	{
		Dataset: DatasetFashionMNIST,
		BaseURL: "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com",
		Files: []DataFile{
			pinned("train-images-idx3-ubyte.gz", 26421880, "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84"),
			pinned("train-labels-idx1-ubyte.gz", 29515, "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845"),
			pinned("t10k-images-idx3-ubyte.gz", 4422102, "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073"),
			pinned("t10k-labels-idx1-ubyte.gz", 5148, "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"),
		},
	},
	{
		Dataset: DatasetSHD,
		BaseURL: "https://zenkelab.org/datasets",
		Files: []DataFile{
			unpinned("shd_train.h5.gz", shdUnpinned),
			unpinned("shd_test.h5.gz", shdUnpinned),
		},
	},
}

const shdUnpinned = "no SHA-256 of the SHD files is published; checked by gunzipping (CRC-32)"

// pinned is a file served under its name, with its size and hex SHA-256.
func pinned(name string, size int64, sha256 string) DataFile {
	return DataFile{Name: name, Path: name, Size: size, SHA256: sha256}
}

// unpinned is a file served under its name, whose SHA-256 is not known
// (for reason).
func unpinned(name, reason string) DataFile {
	return DataFile{Name: name, Path: name, Unpinned: reason}
}

// DataSourceOf returns the source of the named dataset; false for a dataset
// that is not read from files (randman) or unknown.
func DataSourceOf(dataset string) (DataSource, bool) {
	for _, s := range DataSources {
		if s.Dataset == dataset {
			return s, true
		}
	}
	return DataSource{}, false
}

// DataDir returns the absolute data directory that dataDir names for
// LoadDataset: dataDir, else $SGSWEEP_DATA, else ./data.
func DataDir(dataDir string) (string, error) { return resolveDataDir(dataDir) }

// loaderFiles are the base names (without .gz) the loader of each dataset
// looks for in its dataset directory, and their format.
var loaderFiles = map[string]struct {
	format string
	bases  []string
}{
	DatasetMNIST:        {"IDX", idxFiles},
	DatasetFashionMNIST: {"IDX", idxFiles},
	DatasetSHD:          {"HDF5", []string{"shd_train.h5", "shd_test.h5"}},
}

var idxFiles = []string{"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"}

// CheckDataFiles reports whether the files LoadDataset reads for dataset
// exist under dataDir ("" as for LoadDataset), without reading them: nil
// for a dataset that needs no files, else an error wrapping
// fs.ErrNotExist that names the first missing file and the command that
// downloads it. It lets a sweep fail before it starts rather than task by
// task.
func CheckDataFiles(dataset, dataDir string) error {
	files, ok := loaderFiles[dataset]
	if !ok {
		return nil
	}
	abs, err := resolveDataDir(dataDir)
	if err != nil {
		return err
	}
	dir, err := idxDatasetDir(abs, dataset)
	if err != nil {
		return err
	}
	for _, base := range files.bases {
		if _, err := findPlainOrGzip(dir, base, "", files.format); err != nil {
			return withGetHint(fmt.Errorf("%s: %w", dataset, err), dataset, abs)
		}
	}
	return nil
}

// withGetHint adds to a missing-file error of dataset's loader the command
// that downloads the dataset into dataDir; other errors pass unchanged.
func withGetHint(err error, dataset, dataDir string) error {
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if _, ok := DataSourceOf(dataset); !ok {
		return err
	}
	return fmt.Errorf("%w; `sgsweep data get %s --dataset-dir %s` downloads it", err, dataset, filepath.Clean(dataDir))
}
