#!/usr/bin/env python3
"""Times one training minibatch in PyTorch on the CPU, spytorch-style, for a
side-by-side comparison with sim's benchmarks (run by compare.sh).

    /usr/bin/python3 bench.py --case randman --threads 1 --iters 10
    /usr/bin/python3 bench.py --check     # the lean network = model.py's, in float64

Cases (the sizes of sim's BenchmarkEpoch and BenchmarkMinibatchSHD):
  randman  the paper's Randman setup: B 250, 20 inputs -> 100 LIF -> 10
           readout, T 100, one input spike per unit in the first half, SuperSpike
           beta 10, detached reset, max-over-time readout, lower-bound
           regularizer (100, 1e-3), Adam lr 0.05;
  shd      an SHD-sized recurrent minibatch: B 256, 700 inputs spiking with
           probability 0.02 per step, 256 recurrent LIF (gradients through V)
           -> 20 readout, T 100, otherwise as randman, feed-forward gain 12 as
           in sim's benchmark.
One iteration is forward + backward + Adam step. The implementation is the
fast spytorch form: the input projection of all steps and the readout's
input are single matrix products outside the time loop, the per-step
tensors come from unbind (slicing inside the loop makes autograd's backward
quadratic in T), no per-step host synchronisation. It computes exactly
model.py's network (--check verifies it).

Prints one JSON line: case, threads, dtype, the BLAS library actually
loaded (from /proc/self/maps), the wall-clock and process CPU seconds of each
timed iteration and their medians (CPU / wall shows how many cores it really
used), and the hidden layer's spike rate (spikes per neuron per step).
Threads: torch.set_num_threads(n) (intra-op parallelism, OpenMP). Debian's
torch calls a generic BLAS, which does not pass that on: OpenBLAS sizes its
own pool from OPENBLAS_NUM_THREADS (recorded as blas_threads; compare.sh sets
it). Both at 2 on a 2-core machine oversubscribe it (OpenMP threads each
calling a 2-thread OpenBLAS): a minibatch then takes several times longer.
"""

import argparse
import json
import math
import os
import statistics
import time

import torch

import model

CASES = {
    "randman": dict(batch=250, inputs=20, hidden=100, classes=10, steps=100, recurrent=False,
                    rate="once", gain=1.0, lr=0.05),
    "shd": dict(batch=256, inputs=700, hidden=256, classes=20, steps=100, recurrent=True,
                rate=0.02, gain=12.0, lr=0.05),
}


def config(case):
    """model.py's cfg for a case (sim.DefaultConfig's values otherwise)."""
    return {
        "dataset": {"steps": case["steps"]},
        "network": {"hidden": [case["hidden"]], "recurrent": case["recurrent"], "reset": "detached",
                    "recurrent_grad": "propagate", "readout": "max"},
        "neuron": {"dt": 1.0, "tau_mem": 10.0, "tau_syn": 5.0, "tau_out": 20.0, "threshold": 1.0},
        "surrogate": {"shape": "superspike", "scale": 10.0},
        "regularizer": {"lower": {"strength": 100.0, "threshold": 1e-3},
                        "upper": {"strength": 0.0, "threshold": 0.0, "power": 2}},
    }


def lean_run(cfg, w, x, labels):
    """model.run for one hidden layer with a detached reset and the max
    readout, in spytorch's fast form. Returns (loss, hidden spikes [B, T, H])."""
    neu, net = cfg["neuron"], cfg["network"]
    assert len(net["hidden"]) == 1 and net["reset"] == "detached" and net["readout"] == "max"
    lam_mem = math.exp(-neu["dt"] / neu["tau_mem"])
    lam_syn = math.exp(-neu["dt"] / neu["tau_syn"])
    lam_out = math.exp(-neu["dt"] / neu["tau_out"])
    theta = neu["threshold"]
    shape, beta = cfg["surrogate"]["shape"], float(cfg["surrogate"]["scale"])
    B, T, _ = x.shape
    H, O = w["W_1"].shape[1], w["W_out"].shape[1]
    V = w.get("V_1")
    detach_rec = net["recurrent_grad"] == "detached"

    h_in = torch.einsum("btc,ch->bth", x, w["W_1"])
    U = torch.zeros(B, H, dtype=x.dtype)
    I = torch.zeros(B, H, dtype=x.dtype)
    spikes = []
    for h_n in h_in.unbind(1):
        S = model.SurrogateSpike.apply(U - theta, shape, beta)
        syn = h_n
        if V is not None:
            syn = syn + (S.detach() if detach_rec else S) @ V
        U, I = (lam_mem * U + (1 - lam_mem) * I) * (1 - S.detach()), lam_syn * I + syn
        spikes.append(S)
    spk = torch.stack(spikes, 1)

    h_out = torch.einsum("bth,ho->bto", spk, w["W_out"])
    u_out = torch.zeros(B, O, dtype=x.dtype)
    i_out = torch.zeros(B, O, dtype=x.dtype)
    trace = []
    for h_n in h_out.unbind(1):
        trace.append(u_out)
        u_out, i_out = lam_out * u_out + (1 - lam_out) * i_out, lam_syn * i_out + h_n
    logits = torch.stack(trace, 1).max(1).values

    loss = torch.nn.functional.cross_entropy(logits, labels)
    counts = spk.sum(1)
    lo, up = cfg["regularizer"]["lower"], cfg["regularizer"]["upper"]
    if lo["strength"] > 0:
        loss = loss + lo["strength"] * (torch.relu(lo["threshold"] - counts) ** 2).mean()
    if up["strength"] > 0:
        loss = loss + up["strength"] * (torch.relu(counts.mean(1) - up["threshold"]) ** up["power"]).mean()
    return loss, spk


def draw(case, dtype, gen):
    """Weights U(+-g/sqrt(fan_in)) (gain for W_1 only), inputs, labels."""
    shapes = {"W_1": (case["inputs"], case["hidden"]), "W_out": (case["hidden"], case["classes"])}
    if case["recurrent"]:
        shapes["V_1"] = (case["hidden"], case["hidden"])
    w = {}
    for name, (rows, cols) in shapes.items():
        g = case["gain"] if name == "W_1" else 1.0
        w[name] = ((2 * torch.rand(rows, cols, generator=gen, dtype=torch.float64) - 1)
                   * g / math.sqrt(rows)).to(dtype).requires_grad_()
    B, T, C = case["batch"], case["steps"], case["inputs"]
    if case["rate"] == "once":
        x = torch.zeros(B, T, C, dtype=dtype)
        t = torch.randint(0, T // 2, (B, C), generator=gen)
        x.scatter_(1, t.unsqueeze(1), 1.0)  # x[b, t[b, c], c] = 1
    else:
        x = (torch.rand(B, T, C, generator=gen) < case["rate"]).to(dtype)
    labels = torch.randint(0, case["classes"], (B,), generator=gen)
    return w, x, labels


def loaded_blas():
    """The BLAS shared library this process mapped."""
    with open("/proc/self/maps") as f:
        libs = {line.split()[-1] for line in f if "blas" in line.lower() and "/" in line}
    return sorted(libs)


def bench(name, threads, iters, dtype):
    torch.set_num_threads(threads)
    case = CASES[name]
    cfg = config(case)
    w, x, labels = draw(case, dtype, torch.Generator().manual_seed(1))
    opt = torch.optim.Adam(w.values(), lr=case["lr"], betas=(0.9, 0.999), eps=1e-8)
    w0 = {k: v.detach().clone() for k, v in w.items()}
    times, cpu, rate = [], [], 0.0
    for i in range(iters + 1):  # the first is a warm-up
        with torch.no_grad():  # every iteration from the same weights, as in sim's SHD benchmark
            for k, v in w.items():
                v.copy_(w0[k])
        start, start_cpu = time.perf_counter(), time.process_time()
        opt.zero_grad()
        loss, spk = lean_run(cfg, w, x, labels)
        loss.backward()
        opt.step()
        if i > 0:
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
        rate = spk.detach().mean().item()
    return {"case": name, "threads": threads, "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS", ""),
            "dtype": str(dtype).replace("torch.", ""),
            "blas": loaded_blas(), "torch": torch.__version__, "iters": iters,
            "seconds": times, "cpu_seconds": cpu, "median_s": statistics.median(times),
            "median_cpu_s": statistics.median(cpu), "hidden_rate": rate}


def check():
    """lean_run computes model.run's loss and gradients (float64, small sizes)."""
    torch.set_default_dtype(torch.float64)
    for recurrent in (False, True):
        case = dict(CASES["shd" if recurrent else "randman"], batch=6, inputs=12, hidden=16, classes=4,
                    steps=30, gain=4.0, rate=0.1)
        cfg = config(case)
        w, x, labels = draw(case, torch.float64, torch.Generator().manual_seed(2))
        loss, spk = lean_run(cfg, w, x, labels)
        lean = torch.autograd.grad(loss, list(w.values()))
        ref = model.run(cfg, w, x, labels)
        full = torch.autograd.grad(ref["loss"], list(w.values()))
        if spk.sum() == 0:
            raise SystemExit("check: no hidden spikes, the check is vacuous")
        for (name, _), a, b in zip(w.items(), lean, full):
            err = ((a - b).abs().max() / b.abs().max()).item()
            if not err < 1e-12:
                raise SystemExit("check: %s gradient differs from model.run's by %g" % (name, err))
        if abs(loss.item() - ref["loss"].item()) > 1e-12 * abs(ref["loss"].item()):
            raise SystemExit("check: loss %r, model.run %r" % (loss.item(), ref["loss"].item()))
        print("check: recurrent=%s: lean network = model.run (loss %.6f, %d hidden spikes)"
              % (recurrent, loss.item(), int(spk.sum())))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--case", choices=sorted(CASES), default="randman")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--iters", type=int, default=5, help="timed iterations (after one warm-up)")
    ap.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    ap.add_argument("--check", action="store_true", help="verify the lean network against model.py and exit")
    args = ap.parse_args()
    if args.check:
        check()
        return
    print(json.dumps(bench(args.case, args.threads, args.iters, getattr(torch, args.dtype))), flush=True)


if __name__ == "__main__":
    main()
