#!/usr/bin/env python3
"""Summarizes a compare.sh run: medians over repetitions and ratios.

    summarize.py TORCH.jsonl GO.txt LOAD.txt

TORCH.jsonl holds bench.py's lines; GO.txt the output of sim's benchmarks
(one `-test.cpu N` run per thread count and repetition); LOAD.txt one line of
/proc/loadavg per run. BenchmarkEpoch's s/epoch is divided by the 32
minibatches of its epoch (8000 training samples, batch 250; the epoch also
runs the 800-sample validation pass, which counts against sim). Each
repetition contributes one figure per case and thread count (bench.py's
median over its iterations, Go's mean over its b.N); the table shows the
median over repetitions, and the ratio is PyTorch's median over sim's.
"""

import json
import re
import statistics
import sys

EPOCH_MINIBATCHES = 32

GO_LINE = re.compile(r"^Benchmark(Epoch|MinibatchSHD)(?:-(\d+))?\s+\d+\s+(.*)$")


def go_results(path):
    """{(case, threads): [(wall s, cpu s) per minibatch, ...]} and hidden rates."""
    out, rates = {}, []
    for line in open(path):
        m = GO_LINE.match(line.strip())
        if not m:
            continue
        name, procs, rest = m.group(1), int(m.group(2) or 1), m.group(3)
        metrics = {unit: float(v) for v, unit in re.findall(r"([\d.e+-]+) (\S+)", rest)}
        if name == "Epoch":
            case, wall, cpu = "randman", metrics["s/epoch"] / EPOCH_MINIBATCHES, metrics.get("cpu-s/epoch", 0) / EPOCH_MINIBATCHES
        else:
            case, wall, cpu = "shd", metrics["s/minibatch"], metrics.get("cpu-s/minibatch", 0)
            rates.append(metrics["hidden-rate"])
        out.setdefault((case, procs), []).append((wall, cpu))
    return out, rates


def torch_results(path):
    """{(case, threads, "T:B"): [(wall s, cpu s), ...]}: threads = max(T, B),
    T torch's threads, B OpenBLAS's (see compare.sh)."""
    out, meta = {}, {}
    for line in open(path):
        r = json.loads(line)
        b = int(r["blas_threads"] or 1)
        key = (r["case"], max(r["threads"], b), "%d:%d" % (r["threads"], b))
        out.setdefault(key, []).append((r["median_s"], r["median_cpu_s"]))
        meta[key] = r
    return out, meta


def med(pairs, i):
    return statistics.median(p[i] for p in pairs)


def main():
    torch_path, go_path, load_path = sys.argv[1:4]
    torch_r, meta = torch_results(torch_path)
    go_r, rates = go_results(go_path)
    loads = [float(line.split()[0]) for line in open(load_path) if line.strip()]

    any_meta = next(iter(meta.values()))
    print("PyTorch %s, %s, BLAS: %s" % (any_meta["torch"], any_meta["dtype"], ", ".join(any_meta["blas"])))
    print("1-min load average before each run: median %.2f, min %.2f, max %.2f (%d runs)"
          % (statistics.median(loads), min(loads), max(loads), len(loads)))
    print()
    print("%-8s %7s %-8s %5s | %12s %8s | %12s %8s | %8s" % (
        "case", "threads", "torch:B", "reps", "PyTorch s/mb", "cpu/wall", "sim s/mb", "cpu/wall", "PyT/sim"))
    for key in sorted(torch_r):
        t, g = torch_r[key], go_r.get(key[:2], [])
        tw, gw = med(t, 0), (med(g, 0) if g else float("nan"))
        print("%-8s %7d %-8s %5s | %12.4f %8.2f | %12.4f %8.2f | %8.1f" % (
            key[0], key[1], key[2], "%d/%d" % (len(t), len(g)), tw, med(t, 1) / tw,
            gw, med(g, 1) / gw if g else float("nan"), tw / gw))
    if rates:
        print("\nhidden spike rate per neuron and step, shd: sim %.4f, PyTorch %.4f; randman PyTorch %.4f "
              "(sim's randman benchmark trains from epoch 2 on: active)"
              % (statistics.median(rates), meta.get(("shd", 1, "1:1"), {}).get("hidden_rate", float("nan")),
                 meta.get(("randman", 1, "1:1"), {}).get("hidden_rate", float("nan"))))
    print("\nper repetition (s/minibatch):")
    for key in sorted(torch_r):
        print("  %-8s %d %-4s PyTorch %s" % (key + (" ".join("%.4f" % p[0] for p in torch_r[key]),)))
    for key in sorted(go_r):
        print("  %-8s %d      sim     %s" % (key + (" ".join("%.4f" % p[0] for p in go_r[key]),)))

if __name__ == "__main__":
    main()
