#!/usr/bin/env python3
"""Regenerates the PyTorch correctness fixtures of sim/testdata/torch/.

    cd sim/testdata/torch && /usr/bin/python3 gen.py             # float64: *.json
    cd sim/testdata/torch && /usr/bin/python3 gen.py --float32   # float32: f32/*.json

Needs Debian's python3-torch and python3-numpy (apt-get install -y
python3-torch python3-numpy; /usr/bin/python3, since a pyenv python3 earlier
on PATH would not see them). CI never runs it: the outputs are committed and
sim/torch_test.go (TestTorchFixtures, TestTorchFixtures32) reads them.
Regenerating gives identical files: every random number comes from a seeded
torch.Generator.

For each configuration in FIXTURES it draws small weights and random input
spikes, runs model.py's network with autograd, and writes <name>.json. By
default everything is float64 (torch's default dtype set to float64). With
--float32 everything is float32, as a PyTorch user trains: the weights are
drawn in float32 (so they are float32 values, written exactly), and the
forward, autograd and Adam compute in float32; those fixtures go to f32/,
their config says numerics float32, and sim runs them in float32. The
format:

  name, about       the fixture's name and what it covers
  config            the fields of sim.Config (JSON layout) that differ from
                    sim.DefaultConfig, plus the ones the network reads
                    (and numerics: float32 for the float32 fixtures)
  inputs, classes   sizes of the input and the readout
  weights           {W_1, V_1, ..., W_out}: each [pre][post], as used in
                    x @ W (see model.py)
  samples           [{label, times, units}]: input events sorted by (time, unit)
  loss              mean over the samples of cross-entropy + regularizers
  logits            [sample][class]
  counts            [sample][layer][neuron] spike counts
  grads             d loss / d weights, same layout as weights
  margin            min |U - threshold| over all neurons, steps, samples
                    (also over the Adam steps' forwards): at least
                    min_margin (1e-9 in float64, 1e-3 in float32; see
                    Numerics below), so rounding (~1e-16 in float64, ~1e-6 in
                    float32, as the order of summation differs between
                    implementations) cannot flip a spike
  readout_gap       max readout: min distance between a logit and any other
                    value of its trace, also at least min_margin (the
                    argmax step cannot flip); null for the other readouts
  adam              steps of torch.optim.Adam on this one minibatch with
                    config.train's constants: loss before each step, and the
                    weights after the last
"""

import argparse
import collections
import json
import math
import os

import torch

import model

ADAM_STEPS = 2
MIN_SPIKES = 10  # per layer and fixture

# Numerics: the dtype a set of fixtures is computed in, the smallest margin
# and readout gap it accepts (see margin above: far above that dtype's
# rounding, far below any real difference), the directory it is written to
# and the config fields that tell sim to run it in that dtype.
Numerics = collections.namedtuple("Numerics", "dtype min_margin dir config")
FLOAT64 = Numerics(torch.float64, 1e-9, ".", {})
FLOAT32 = Numerics(torch.float32, 1e-3, "f32", {"numerics": "float32"})

BASE = {
    "dataset": {"steps": 25},
    "network": {"hidden": [5], "recurrent": False, "reset": "detached",
                "recurrent_grad": "propagate", "readout": "max"},
    "neuron": {"dt": 1.0, "tau_mem": 10.0, "tau_syn": 5.0, "tau_out": 20.0, "threshold": 1.0},
    "surrogate": {"shape": "superspike", "scale": 10.0},
    "regularizer": {"lower": {"strength": 0.5, "threshold": 1.5},
                    "upper": {"strength": 0.2, "threshold": 0.35, "power": 2}},
    "train": {"batch": 5, "lr": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8},
}

# Fixtures that must exercise sim's quiet-tail backward (see quiet_tail).
QUIET_TAIL = {"ff1_randman_like"}

# name, what it covers, config overrides, data: (inputs, classes, samples,
# input rate per unit and step, or "once" for one spike per unit in the first
# half as in Randman), gains (feed-forward, recurrent, readout), seed.
FIXTURES = [
    ("ff1_superspike_max", "one layer, detached reset, max readout, SuperSpike beta 10",
     {}, (6, 3, 5, 0.2), (4.0, 1.0, 2.0), 1),
    ("ff1_sigmoid_mean", "one layer, mean readout, sigmoid beta 5, upper bound power 1",
     {"network": {"readout": "mean"}, "surrogate": {"shape": "sigmoid", "scale": 5.0},
      "regularizer": {"upper": {"power": 1}}}, (6, 3, 5, 0.2), (4.0, 1.0, 2.0), 2),
    ("ff1_esser_last", "one layer, last-step readout, Esser beta 2 (support |x| < 0.5)",
     {"network": {"readout": "last"}, "surrogate": {"shape": "esser", "scale": 2.0}},
     (6, 3, 5, 0.2), (4.0, 1.0, 2.0), 3),
    ("ff1_randman_like", "one layer, one input spike per unit in the first half, default "
     "lower bound (100, 1e-3), no upper bound, T 40: sim's silent-layer and quiet-tail shortcuts apply",
     {"dataset": {"steps": 40}, "network": {"hidden": [8]},
      "regularizer": {"lower": {"strength": 100.0, "threshold": 0.001}, "upper": {"strength": 0.0}}},
     (10, 3, 6, "once"), (20.0, 1.0, 2.0), 4),
    ("ff1_neuron_params", "one layer, dt 0.5, tau_mem 8, tau_syn 3, tau_out 12, threshold 0.8, atan beta 3",
     {"neuron": {"dt": 0.5, "tau_mem": 8.0, "tau_syn": 3.0, "tau_out": 12.0, "threshold": 0.8},
      "surrogate": {"shape": "atan", "scale": 3.0}}, (6, 3, 5, 0.2), (3.0, 1.0, 2.0), 5),
    ("ff2_superspike_max", "two layers, detached reset, max readout",
     {"network": {"hidden": [5, 4]}}, (6, 3, 5, 0.2), (5.0, 1.0, 2.0), 6),
    ("ff2_asymptotic_diffreset_max", "two layers, differentiable reset, asymptotic SuperSpike beta 4",
     {"network": {"hidden": [5, 4], "reset": "differentiable"},
      "surrogate": {"shape": "superspike_asymptotic", "scale": 4.0}}, (6, 3, 5, 0.2), (5.0, 1.0, 2.0), 7),
    ("rec1_propagate_max", "one recurrent layer, gradients through V, max readout",
     {"network": {"recurrent": True}}, (6, 3, 5, 0.2), (4.0, 2.0, 2.0), 8),
    ("rec1_detached_sigmoid_mean", "one recurrent layer, V path detached, sigmoid beta 5, mean readout",
     {"network": {"recurrent": True, "recurrent_grad": "detached", "readout": "mean"},
      "surrogate": {"shape": "sigmoid", "scale": 5.0}}, (6, 3, 5, 0.2), (4.0, 2.0, 2.0), 9),
    ("rec2_propagate_diffreset_last", "two recurrent layers, gradients through V, differentiable "
     "reset, asymptotic SuperSpike beta 2, last-step readout",
     {"network": {"hidden": [5, 4], "recurrent": True, "reset": "differentiable", "readout": "last"},
      "surrogate": {"shape": "superspike_asymptotic", "scale": 2.0}}, (6, 3, 5, 0.2), (5.0, 2.0, 2.0), 10),
    ("rec2_detached_diffreset_esser_max", "two recurrent layers, V path detached, differentiable "
     "reset, Esser beta 1, max readout",
     {"network": {"hidden": [5, 4], "recurrent": True, "recurrent_grad": "detached",
                  "reset": "differentiable"},
      "surrogate": {"shape": "esser", "scale": 1.0}}, (6, 3, 5, 0.2), (5.0, 2.0, 2.0), 11),
    ("rec1_gaussian_mean", "one recurrent layer, detached reset, gaussian beta 1, mean readout",
     {"network": {"recurrent": True, "readout": "mean"}, "surrogate": {"shape": "gaussian", "scale": 1.0}},
     (6, 3, 5, 0.2), (4.0, 2.0, 2.0), 12),
    ("ff2_exponential_diffreset_mean", "two layers, differentiable reset, exponential beta 2, mean readout",
     {"network": {"hidden": [5, 4], "reset": "differentiable", "readout": "mean"},
      "surrogate": {"shape": "exponential", "scale": 2.0}}, (6, 3, 5, 0.2), (5.0, 1.0, 2.0), 13),
]


def merged(base, over):
    """base with over's values, recursively for dicts."""
    out = dict(base)
    for k, v in over.items():
        out[k] = merged(base[k], v) if isinstance(v, dict) else v
    return out


def draw_weights(cfg, inputs, classes, gains, gen):
    """U(+-g/sqrt(fan_in)) per matrix, sim's default distribution."""
    ff, rec, out = gains
    w = {}
    for name, (rows, cols) in model.param_shapes(cfg, inputs, classes).items():
        g = rec if name.startswith("V") else out if name == "W_out" else ff
        w[name] = (2 * torch.rand(rows, cols, generator=gen) - 1) * g / math.sqrt(rows)
    return w


def draw_inputs(steps, inputs, samples, rate, gen):
    """Dense 0/1 inputs [B, T, inputs]."""
    if rate == "once":
        x = torch.zeros(samples, steps, inputs)
        t = torch.randint(0, steps // 2, (samples, inputs), generator=gen)
        for b in range(samples):
            for u in range(inputs):
                x[b, t[b, u], u] = 1
        return x
    return (torch.rand(samples, steps, inputs, generator=gen) < rate).to(torch.get_default_dtype())


def events(x_b):
    """Sample x_b [T, inputs] as sorted (times, units) lists."""
    nz = x_b.nonzero().tolist()  # row-major: sorted by time, then unit
    return [t for t, _ in nz], [u for _, u in nz]


def matrix(t):
    return [[float(v) for v in row] for row in t.tolist()]


def fixture(num, name, about, over, data, gains, seed):
    """Writes num.dir/<name>.json from the first seed (seed*1000,
    seed*1000+1, ...) whose draw is active (see active), far from every
    decision boundary (see num.min_margin) and, for the fixtures of
    QUIET_TAIL, covers sim's quiet-tail backward (see quiet_tail)."""
    cfg = merged(BASE, over)
    cfg["train"]["batch"] = data[2]
    for s in range(seed * 1000, seed * 1000 + 1000):
        doc = compute(num, cfg, data, gains, s, name in QUIET_TAIL)
        if doc is not None:
            break
    else:
        raise RuntimeError("%s: no seed in 1000 gives a draw that qualifies: change the gains" % name)
    doc = {"name": name, "about": about, **doc}
    with open(os.path.join(num.dir, name + ".json"), "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    spikes = [sum(sum(s[l]) for s in doc["counts"]) for l in range(len(cfg["network"]["hidden"]))]
    print("%-34s seed %5d  loss %.6f  spikes/layer %-10s margin %.1e  gap %s"
          % (name, s, doc["loss"], spikes, doc["margin"], doc["readout_gap"]))


def compute(num, cfg, data, gains, seed, quiet):
    """The fixture's contents for one draw in num's dtype (torch's default);
    None if the draw is not active, too close to a decision boundary, or,
    when quiet is set, gives sim's quiet-tail backward nothing to do."""
    inputs, classes, samples, rate = data
    gen = torch.Generator().manual_seed(seed)
    w = draw_weights(cfg, inputs, classes, gains, gen)
    x = draw_inputs(cfg["dataset"]["steps"], inputs, samples, rate, gen)
    labels = torch.randint(0, classes, (samples,), generator=gen)
    names = model.param_names(cfg)
    params = [w[n].clone().requires_grad_() for n in names]
    current = lambda: dict(zip(names, params))

    out = model.run(cfg, current(), x, labels)
    if not active(out["counts"]) or quiet and not quiet_tail(cfg, out["counts"]):
        return None
    out["loss"].backward()
    grads = {n: p.grad.clone() for n, p in zip(names, params)}
    if any(g.abs().max() == 0 for g in grads.values()):
        return None  # a zero gradient would check nothing

    margin, gap = out["margin"], out["readout_gap"]
    tr = cfg["train"]
    opt = torch.optim.Adam(params, lr=tr["lr"], betas=(tr["beta1"], tr["beta2"]), eps=tr["eps"])
    adam_losses = []
    for _ in range(ADAM_STEPS):
        opt.zero_grad()
        step = model.run(cfg, current(), x, labels)
        step["loss"].backward()
        opt.step()
        adam_losses.append(step["loss"].item())
        margin, gap = min(margin, step["margin"]), min(gap, step["readout_gap"])
    if margin < num.min_margin or gap < num.min_margin:
        return None

    return {
        "config": {**{k: cfg[k] for k in ("dataset", "network", "neuron", "surrogate", "regularizer", "train")},
                   **num.config},
        "inputs": inputs,
        "classes": classes,
        "weights": {n: matrix(w[n]) for n in names},
        "samples": [dict(zip(("label", "times", "units"), (int(labels[b]),) + events(x[b])))
                    for b in range(samples)],
        "loss": out["loss"].item(),
        "logits": matrix(out["logits"].detach()),
        "counts": [[[float(v) for v in c[b].tolist()] for c in out["counts"]] for b in range(samples)],
        "grads": {n: matrix(grads[n]) for n in names},
        "margin": margin,
        "readout_gap": gap if math.isfinite(gap) else None,
        "adam": {"steps": ADAM_STEPS, "losses": adam_losses,
                 "weights": {n: matrix(p.detach()) for n, p in zip(names, params)}},
    }


def active(counts):
    """Whether every layer spikes at least MIN_SPIKES times and some neuron
    is silent on some sample: both the spiking and the silent paths are
    checked."""
    return all(c.sum() >= MIN_SPIKES and (c == 0).any() for c in counts)


def quiet_tail(cfg, counts):
    """Whether sim's quiet-tail backward (sim/backward.go, quietTail) applies
    to some sample of a one-layer network without the upper regularizer: at
    most a quarter of its neurons (rounded down) end below the lower
    regularizer's threshold, the only ones with a gradient after the max
    readout's last maximum, and the only ones quietTail tracks there."""
    (c,) = counts
    below = (c < cfg["regularizer"]["lower"]["threshold"]).sum(1)
    return bool((below <= c.shape[1] // 4).any())


def main():
    ap = argparse.ArgumentParser(description="Regenerates sim's PyTorch fixtures.")
    ap.add_argument("--float32", action="store_true",
                    help="compute in float32 and write f32/*.json (default: float64, *.json)")
    num = FLOAT32 if ap.parse_args().float32 else FLOAT64
    torch.set_default_dtype(num.dtype)
    os.chdir(os.path.dirname(os.path.abspath(__file__)))
    os.makedirs(num.dir, exist_ok=True)
    for f in FIXTURES:
        fixture(num, *f)


if __name__ == "__main__":
    main()
