#!/usr/bin/env python3
"""Regenerates the HDF5 fixtures of sim/testdata/shd/ (needs h5py and numpy).

    cd sim/testdata/shd && python3 gen.py           # small fixtures + JSON
    python3 gen.py --large /tmp/shd-bench            # SHD-sized benchmark files

Small fixtures, for the tests of sim/internal/hdf5 and of the SHD loader
(CI never runs this script: the outputs are committed):

  reader_*.h5      files in several layouts; reader_*.json next to each lists
                   every dataset with its type, shape and exact values
                   (numbers as written, after rounding to the stored type).
  shd_train.h5     an SHD-layout training file with hand-picked spike times
                   (see shd_test.go for the expected binning), h5py defaults.
  shd_test.h5.gz   an SHD-layout test file, gzipped as the dataset is
                   distributed.
  shd_*.json       their samples as written, in the format of reader_*.json.

--large DIR writes DIR/shd/shd_train.h5 and DIR/shd/shd_test.h5 with the real
dataset's sizes (8156 and 2264 samples, 5000-15000 spikes each, float16
times, uint16 units and labels, h5py defaults), for BenchmarkLoadSHD:

    SGSWEEP_SHD_BENCH_DIR=DIR go test ./sim -run '^$' -bench LoadSHD

The SHD files (Cramer et al. 2020, zenkelab.org/datasets) hold
spikes/times (vlen float16, seconds), spikes/units (vlen uint16, 0..699),
labels (uint16, 0..19) and an extra/ group that readers ignore.
"""

import argparse
import gzip
import json
import os
import shutil

import h5py
import numpy as np

CHANNELS = 700
CLASSES = 20


def type_name(dt):
    """The type's name as sim/internal/hdf5 prints it (Datatype.String)."""
    base = h5py.check_vlen_dtype(dt)
    if base is not None:
        return "vlen(%s)" % type_name(np.dtype(base))
    kind = {"u": "uint", "i": "int", "f": "float"}[dt.kind]
    order = "be" if dt.byteorder == ">" else ""
    return "%s%d%s" % (kind, 8 * dt.itemsize, order)


def plain(values, dt):
    """Values as JSON numbers, exactly as stored in type dt."""
    return [float(v) if dt.kind == "f" else int(v) for v in np.asarray(values, dtype=dt).ravel()]


class Fixture:
    """An HDF5 file being written plus the JSON description of its datasets.
    No object stores timestamps, so regenerating gives identical bytes."""

    def __init__(self, path, libver="earliest", userblock_size=0):
        self.path = path
        fapl = h5py.h5p.create(h5py.h5p.FILE_ACCESS)
        low = {"earliest": h5py.h5f.LIBVER_EARLIEST, "v108": h5py.h5f.LIBVER_V18,
               "latest": h5py.h5f.LIBVER_LATEST}[libver]
        fapl.set_libver_bounds(low, h5py.h5f.LIBVER_LATEST)
        fcpl = h5py.h5p.create(h5py.h5p.FILE_CREATE)
        fcpl.set_obj_track_times(False)
        if userblock_size:
            fcpl.set_userblock(userblock_size)
        self.f = h5py.File(h5py.h5f.create(path.encode(), h5py.h5f.ACC_TRUNC, fcpl=fcpl, fapl=fapl))
        self.expected = {}

    def group(self, name):
        """Creates group name and its parents if missing."""
        gcpl = h5py.h5p.create(h5py.h5p.GROUP_CREATE)
        gcpl.set_obj_track_times(False)
        parts = [p for p in name.split("/") if p]
        for i in range(len(parts)):
            sub = "/".join(parts[: i + 1])
            if sub not in self.f:
                h5py.h5g.create(self.f.id, sub.encode(), gcpl=gcpl)
        return self.f[name] if parts else self.f

    def parent(self, name):
        """Creates the groups above dataset name."""
        self.group(name.rpartition("/")[0])

    def numeric(self, name, data, dtype, **kw):
        data = np.asarray(data, dtype=dtype)
        self.parent(name)
        self.f.create_dataset(name, data=data, track_times=False, **kw)
        self.expected[name] = {"type": type_name(data.dtype), "shape": list(data.shape),
                               "values": plain(data, data.dtype)}

    def sequences(self, name, seqs, dtype, **kw):
        dtype = np.dtype(dtype)
        self.parent(name)
        d = self.f.create_dataset(name, (len(seqs),), dtype=h5py.vlen_dtype(dtype), track_times=False, **kw)
        for i, s in enumerate(seqs):
            d[i] = np.asarray(s, dtype=dtype)
        self.expected[name] = {"type": "vlen(%s)" % type_name(dtype), "shape": [len(seqs)],
                               "sequences": [plain(s, dtype) for s in seqs]}

    def close(self):
        self.f.close()
        # One dataset per line: {"datasets": {path: {type, shape, values |
        # sequences}}}.
        lines = ["  %s: %s" % (json.dumps(k), json.dumps(v, sort_keys=True)) for k, v in sorted(self.expected.items())]
        with open(self.path[:-3] + ".json", "w") as out:
            out.write('{"datasets": {\n' + ",\n".join(lines) + "\n}}\n")


def random_samples(rng, n, max_spikes, duration=1.5):
    """n samples of sorted spike times in [0, duration) and random units."""
    times, units = [], []
    for i in range(n):
        k = 0 if i == 1 else int(rng.integers(1, max_spikes))
        times.append(np.sort(rng.uniform(0, duration, size=k)))
        units.append(rng.integers(0, CHANNELS, size=k))
    labels = rng.integers(0, CLASSES, size=n)
    return times, units, labels


def write_extra(fx, n, rng):
    """The extra/ group of the real files (ignored by the loader)."""
    extra = fx.group("extra")
    extra.create_dataset("speaker", data=rng.integers(0, 12, size=n).astype(np.uint16), track_times=False)
    keys = ["%s-%d" % (lang, d) for lang in ("german", "english") for d in range(10)]
    extra.create_dataset("keys", data=np.array(keys, dtype=object), dtype=h5py.string_dtype(), track_times=False)
    meta = fx.group("extra/meta_info")
    meta.create_dataset("gender", data=np.array(["female", "male"], dtype=object), dtype=h5py.string_dtype(),
                        track_times=False)
    meta.create_dataset("age", data=np.array([27, 35], dtype=np.uint16), track_times=False)
    meta.create_dataset("body_height", data=np.array([1.70, 1.85]), track_times=False)


def shd_fixture(path, rng, time_dtype, libver="earliest", n=7, max_spikes=30, labels_kw=None, **kw):
    """An SHD-layout file of random samples, datasets created with kw
    (labels with labels_kw if given)."""
    fx = Fixture(path, libver)
    times, units, labels = random_samples(rng, n, max_spikes)
    fx.sequences("spikes/times", times, time_dtype, **kw)
    fx.sequences("spikes/units", units, np.uint16, **kw)
    fx.numeric("labels", labels, np.uint16, **(kw if labels_kw is None else labels_kw))
    write_extra(fx, n, rng)
    return fx


def small(outdir):
    rng = np.random.default_rng(20240601)
    j = lambda name: os.path.join(outdir, name)

    # h5py defaults: superblock 0, symbol-table groups, contiguous storage.
    shd_fixture(j("reader_default_f16.h5"), rng, np.float16).close()
    shd_fixture(j("reader_default_f32.h5"), rng, np.float32).close()

    # Chunked (version 1 B-tree index) with shuffle + deflate, and
    # fletcher32 on the labels (libhdf5 refuses it on variable-length types).
    shd_fixture(j("reader_chunked_gzip.h5"), rng, np.float16,
                chunks=(3,), compression="gzip", shuffle=True,
                labels_kw=dict(chunks=(2,), compression="gzip", shuffle=True, fletcher32=True)).close()

    # libver="v108" (HDF5 1.8 format): superblock 2, version 2 object
    # headers and link messages, but data layout message 3 (B-tree chunks).
    # (Its own random source, added later, so the other files stay as they were.)
    shd_fixture(j("reader_v108.h5"), np.random.default_rng(108), np.float32, libver="v108",
                chunks=(4,), compression="gzip", shuffle=True).close()

    # libver="latest": superblock 3, version 2 object headers, link
    # messages, layout message 4 with a fixed array index, float64 times.
    fx = shd_fixture(j("reader_latest_f64.h5"), rng, np.float64, libver="latest",
                     chunks=(2,), compression="gzip", shuffle=True)
    # A paged fixed array (more than 1024 chunks).
    fx.numeric("paged/fixed", rng.integers(0, 256, size=1100), np.uint8, chunks=(1,))
    # Single chunk index, filtered and not.
    fx.numeric("single/filtered", rng.integers(-1000, 1000, size=(4, 5)), np.int32,
               chunks=(4, 5), compression="gzip")
    fx.numeric("single/plain", rng.uniform(-1, 1, size=6), np.float32, chunks=(6,))
    # Implicit index: early allocation, no filters.
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_chunk((3,))
    dcpl.set_alloc_time(h5py.h5d.ALLOC_TIME_EARLY)
    dcpl.set_obj_track_times(False)
    vals = rng.integers(0, 60000, size=10).astype(np.uint16)
    space = h5py.h5s.create_simple((10,))
    dsid = h5py.h5d.create(fx.f.id, b"implicit", h5py.h5t.STD_U16LE, space, dcpl=dcpl)
    h5py.Dataset(dsid)[...] = vals
    fx.expected["implicit"] = {"type": "uint16", "shape": [10], "values": plain(vals, vals.dtype)}
    fx.close()

    # libver="latest" with unlimited dimensions: extensible array indexes,
    # one with more than 244 chunks so that secondary blocks are used.
    fx = shd_fixture(j("reader_latest_unlimited.h5"), rng, np.float32, libver="latest",
                     chunks=(2,), maxshape=(None,), compression="gzip")
    fx.numeric("extensible", rng.integers(0, 65536, size=300), np.uint16, chunks=(1,), maxshape=(None,))
    fx.numeric("extensible2d", rng.integers(-99, 99, size=(3, 7)), np.int16, chunks=(2, 2), maxshape=(3, None))
    # More than 8 links: libhdf5 switches the group to dense storage
    # (fractal heap), which the reader refuses by name (not in the JSON).
    for i in range(9):
        fx.group("dense").create_dataset("d%d" % i, data=np.arange(3, dtype=np.uint8), track_times=False)
    fx.close()

    # Big-endian types, N-d chunks with partial edge chunks, a scalar,
    # compact storage, a fill value for chunks never written, a user block.
    fx = Fixture(j("reader_misc.h5"), userblock_size=512)
    times, units, labels = random_samples(rng, 5, 12)
    fx.sequences("spikes/times", times, ">f4")
    fx.sequences("spikes/units", units, ">u2")
    fx.numeric("labels", labels, ">u2")
    fx.numeric("grid", rng.integers(-2**31, 2**31, size=(5, 7)), np.int32, chunks=(2, 3))
    fx.numeric("grid_be", rng.uniform(-1e6, 1e6, size=(3, 4, 5)), ">f8", chunks=(2, 3, 2), compression="gzip")
    fx.numeric("scalar", 3.25, np.float64)
    fx.numeric("int8", rng.integers(-128, 128, size=9), np.int8)
    fx.numeric("int64", rng.integers(-2**62, 2**62, size=4), ">i8")
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_layout(h5py.h5d.COMPACT)
    dcpl.set_obj_track_times(False)
    vals = rng.integers(0, 1000, size=6).astype(np.uint32)
    dsid = h5py.h5d.create(fx.f.id, b"compact", h5py.h5t.STD_U32LE, h5py.h5s.create_simple((6,)), dcpl=dcpl)
    h5py.Dataset(dsid)[...] = vals
    fx.expected["compact"] = {"type": "uint32", "shape": [6], "values": plain(vals, vals.dtype)}
    d = fx.f.create_dataset("fill", (10,), dtype=np.int16, chunks=(3,), fillvalue=-7, track_times=False)
    d[3:6] = [1, 2, 3]  # only chunk 1 is written; chunks 0, 2, 3 read as fill
    fx.expected["fill"] = {"type": "int16", "shape": [10], "values": [-7, -7, -7, 1, 2, 3, -7, -7, -7, -7]}
    fx.close()

    # The loader's fixtures: <dataDir>/shd/shd_train.h5 and shd_test.h5.gz
    # with dataDir = sim/testdata.
    write_shd(j("shd_train.h5"), *loader_train_samples(rng)).close()
    write_shd(j("shd_test.h5"), *random_samples(rng, 6, 40, duration=1.0), time_dtype=np.float32).close()
    with open(j("shd_test.h5"), "rb") as src, open(j("shd_test.h5.gz"), "wb") as raw:
        with gzip.GzipFile(filename="shd_test.h5", fileobj=raw, mode="wb", mtime=0) as dst:
            shutil.copyfileobj(src, dst)
    os.remove(j("shd_test.h5"))


def loader_train_samples(rng):
    """The training file of the loader tests: samples 0-2 are hand-picked
    (shd_test.go bins them with steps 4 over 1 s: bin width 0.25 s), then
    random samples. Times are multiples of 2^-10 s, exact in float16."""
    times = [
        # Bin edges go to the upper bin; 1.0 and later are dropped.
        [0.0, 0.25, 0.5, 0.75, 1.0, 1.25],
        # Repeated (bin, unit) pairs merge; unsorted input is sorted.
        [0.5, 0.125, 0.1875, 0.1875, 0.9990234375, 0.7490234375, 0.0625],
        [],
    ]
    units = [
        [0, 1, 2, 3, 4, 5],
        [7, 9, 9, 9, 699, 3, 9],
        [],
    ]
    labels = [3, 19, 0]
    rt, ru, rl = random_samples(rng, 17, 25, duration=1.2)
    return times + rt, units + ru, labels + list(rl)


def write_shd(path, times, units, labels, time_dtype=np.float16):
    """An SHD-layout file the way the dataset is distributed (h5py defaults).
    Writes the JSON description next to it unless path is in a --large run."""
    fx = Fixture(path)
    fx.sequences("spikes/times", times, time_dtype)
    fx.sequences("spikes/units", units, np.uint16)
    fx.numeric("labels", labels, np.uint16)
    write_extra(fx, len(labels), np.random.default_rng(0))
    return fx


def large(outdir):
    """SHD-sized files for the benchmark (random spikes, real sizes)."""
    rng = np.random.default_rng(7)
    os.makedirs(os.path.join(outdir, "shd"), exist_ok=True)
    for name, n in (("shd_train.h5", 8156), ("shd_test.h5", 2264)):
        times, units = [], []
        for _ in range(n):
            k = int(rng.integers(5000, 15001))
            times.append(np.sort(rng.uniform(0, 1.4, size=k)))
            units.append(rng.integers(0, CHANNELS, size=k))
        fx = write_shd(os.path.join(outdir, "shd", name), times, units, rng.integers(0, CLASSES, size=n))
        fx.f.close()  # no JSON for these


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--large", metavar="DIR", help="write SHD-sized benchmark files under DIR/shd/")
    args = p.parse_args()
    if args.large:
        large(args.large)
    else:
        small(os.path.dirname(os.path.abspath(__file__)))


if __name__ == "__main__":
    main()
