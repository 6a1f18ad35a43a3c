#!/usr/bin/env python3
"""Does a sweep with early stopping reach the same conclusions as the full grid?

Reads two `sgsweep export` CSVs of the same grid (the full run, the run with
a stopping block) and prints the epochs trained (sum over tasks), the tasks
each rule stopped, and, per condition, whether the 5 best cells (by mean
test accuracy over seeds) are the same. Only cells that learned in the full
run (mean above chance + margin) are ranked: cells at chance are tied and
their order means nothing. A cell with a stopped task is not ranked in the
stopped run (its mean is not comparable).

    python3 examples/stopping/check.py full.csv stopped.csv surrogate.shape
    python3 examples/stopping/check.py full.csv stopped.csv \\
        surrogate.shape,network.reset,network.hidden

Standard library only. The cell is the pair (surrogate.scale, train.lr).
"""
import collections
import csv
import statistics
import sys

CHANCE, MARGIN, TOP = 0.1, 0.02, 5


def rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def best_cells(tasks, condition):
    cells = collections.defaultdict(lambda: collections.defaultdict(list))
    for t in tasks:
        key = tuple(t[c] for c in condition)
        cells[key][(t["surrogate.scale"], t["train.lr"])].append(t)
    best = {}
    for key, by_cell in cells.items():
        ranked = []
        for cell, ts in by_cell.items():
            if any(t["state"] == "stopped" for t in ts):
                continue
            mean = statistics.mean(float(t["test_acc"]) for t in ts)
            if mean > CHANCE + MARGIN:
                ranked.append((mean, cell))
        best[key] = [cell for _, cell in sorted(ranked, reverse=True)[:TOP]]
    return best


def main(full_csv, stopped_csv, condition):
    full, stopped = rows(full_csv), rows(stopped_csv)
    epochs_full = sum(int(t["epochs"]) for t in full)
    epochs_stopped = sum(int(t["epochs"]) for t in stopped)
    rules = collections.Counter(t["stop_rule"] for t in stopped if t["state"] == "stopped")
    print(f"epochs trained: {epochs_full} full, {epochs_stopped} with stopping "
          f"({1 - epochs_stopped / epochs_full:.1%} fewer)")
    print("stopped:", ", ".join(f"{n} by {r}" for r, n in sorted(rules.items())) or "none")
    a, b = best_cells(full, condition), best_cells(stopped, condition)
    same = [k for k in a if a[k] == b.get(k, [])]
    print(f"same top {TOP} (cells that learned): {len(same)} of {len(a)} conditions")
    for k in a:
        if a[k] != b.get(k, []):
            print(f"  {'/'.join(k)}: full {a[k]}, with stopping {b.get(k, [])}")
    return 0 if len(same) == len(a) else 1


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3].split(",")))
