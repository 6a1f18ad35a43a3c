"""The network of MODEL.md in PyTorch: an independent reference for sim.

Shared by gen.py (correctness fixtures, float64 and float32) and bench.py
(float32 timings). Everything is written spytorch-style, with autograd
computing every gradient: the only hand-written derivative is the
surrogate's, in SurrogateSpike.backward, which is what a surrogate gradient
is. Tensors take the dtype of the inputs x; the network's constants are
Python floats (float64), which torch rounds to x's dtype where they meet
a tensor.

Conventions (those of spytorch, and of sim's flat parameter layout):
  - inputs are dense tensors [B, T, inputs] of 0/1, split per step with
    unbind (never sliced inside the loop: slicing makes autograd's backward
    quadratic in T);
  - a weight matrix W has the presynaptic index first: layer input x [B, in]
    gives x @ W [B, out]. Names: W_1, V_1, W_2, ..., W_out (sim's paramBlocks).

cfg is a dict with sim.Config's JSON layout (only the fields below are read):
  dataset.steps; network.hidden, recurrent, reset, recurrent_grad, readout;
  neuron.dt, tau_mem, tau_syn, tau_out, threshold; surrogate.shape, scale;
  regularizer.lower.{strength, threshold}, regularizer.upper.{strength,
  threshold, power}.
"""

import math

import torch

# Surrogate derivatives h(x; beta) of sim/surrogate.go, x = U - threshold.
SURROGATES = {
    "superspike": lambda x, b: 1 / (b * x.abs() + 1) ** 2,
    "sigmoid": lambda x, b: torch.sigmoid(b * x) * (1 - torch.sigmoid(b * x)),
    "esser": lambda x, b: torch.clamp(1 - b * x.abs(), min=0),
    "exponential": lambda x, b: torch.exp(-b * x.abs()),
    "gaussian": lambda x, b: torch.exp(-((b * x) ** 2) / 2),
    "atan": lambda x, b: 1 / (1 + (math.pi * b * x / 2) ** 2),
    "superspike_asymptotic": lambda x, b: b / (b * x.abs() + 1) ** 2,
    "heaviside": lambda x, b: torch.zeros_like(x),
}


class SurrogateSpike(torch.autograd.Function):
    """S = Heaviside(x) (strictly x > 0) forward; dS/dx := h(x) backward."""

    @staticmethod
    def forward(ctx, x, shape, beta):
        ctx.save_for_backward(x)
        ctx.shape, ctx.beta = shape, beta
        return (x > 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * SURROGATES[ctx.shape](x, ctx.beta), None, None


def param_names(cfg):
    """The weight matrices of cfg's network, in sim's parameter order."""
    names = []
    for l in range(len(cfg["network"]["hidden"])):
        names.append("W_%d" % (l + 1))
        if cfg["network"]["recurrent"]:
            names.append("V_%d" % (l + 1))
    return names + ["W_out"]


def param_shapes(cfg, inputs, classes):
    """{name: (rows, cols)}: presynaptic rows, postsynaptic columns."""
    shapes, fan_in = {}, inputs
    for l, h in enumerate(cfg["network"]["hidden"]):
        shapes["W_%d" % (l + 1)] = (fan_in, h)
        if cfg["network"]["recurrent"]:
            shapes["V_%d" % (l + 1)] = (h, h)
        fan_in = h
    shapes["W_out"] = (fan_in, classes)
    return shapes


def first_max(trace):
    """Max over time (dim 0) of trace [T, B, O] and, for each (b, k), the
    first step that attains it. sim's max readout takes the first step on
    ties (exact ties are common: U_out is exactly 0 until the first spike
    reaches the readout)."""
    steps = torch.arange(trace.shape[0]).view(-1, 1, 1).expand_as(trace)
    top = trace.max(0).values
    first = torch.where(trace == top, steps, trace.shape[0]).min(0).values
    return top, first


def run(cfg, w, x, labels):
    """One minibatch forward. w: {name: tensor}, x: [B, T, inputs], labels: [B].

    Returns a dict: loss (mean over the batch, cross-entropy plus
    regularizers), logits [B, O], counts (per layer [B, H]), margin (the
    smallest |U - threshold| of any neuron at any step: how far every spike
    decision is from flipping) and readout_gap (for the max readout, the
    smallest distance from a logit to a different value of its trace).
    """
    net, neu = cfg["network"], cfg["neuron"]
    shape, beta = cfg["surrogate"]["shape"], float(cfg["surrogate"]["scale"])
    dt, theta = neu["dt"], neu["threshold"]
    lam_mem = math.exp(-dt / neu["tau_mem"])
    lam_syn = math.exp(-dt / neu["tau_syn"])
    lam_out = math.exp(-dt / neu["tau_out"])
    detach_reset = net["reset"] == "detached"
    recurrent = net["recurrent"]
    detach_rec = net["recurrent_grad"] == "detached"
    hidden = net["hidden"]
    B, classes = x.shape[0], w["W_out"].shape[1]
    zeros = lambda n: torch.zeros(B, n, dtype=x.dtype)

    U = [zeros(h) for h in hidden]
    I = [zeros(h) for h in hidden]
    counts = [zeros(h) for h in hidden]
    u_out, i_out = zeros(classes), zeros(classes)
    trace = []
    margin = math.inf
    for x_n in x.unbind(1):
        below = x_n
        for l in range(len(hidden)):
            v = U[l] - theta
            margin = min(margin, v.detach().abs().min().item())
            S = SurrogateSpike.apply(v, shape, beta)
            rst = S.detach() if detach_reset else S
            syn = below @ w["W_%d" % (l + 1)]
            if recurrent:
                syn = syn + (S.detach() if detach_rec else S) @ w["V_%d" % (l + 1)]
            U[l], I[l] = (lam_mem * U[l] + (1 - lam_mem) * I[l]) * (1 - rst), lam_syn * I[l] + syn
            counts[l] = counts[l] + S
            below = S
        trace.append(u_out)
        u_out, i_out = lam_out * u_out + (1 - lam_out) * i_out, lam_syn * i_out + below @ w["W_out"]
    trace = torch.stack(trace)  # [T, B, O]: U_out[n], n = 0 .. T-1

    readout_gap = math.inf
    if net["readout"] == "max":
        logits, idx = torch.max(trace, 0)  # spytorch's readout
        top, first = first_max(trace.detach())
        if not torch.equal(idx, first):
            raise RuntimeError("torch.max did not pick the first maximum on a tie; sim does")
        other = torch.where(trace.detach() == top, -math.inf, trace.detach())
        readout_gap = (top - other.max(0).values).min().item()
    elif net["readout"] == "mean":
        logits = trace.mean(0)
    elif net["readout"] == "last":
        logits = trace[-1]
    else:
        raise ValueError("network.readout %r" % net["readout"])

    loss = torch.nn.functional.cross_entropy(logits, labels)
    lo, up = cfg["regularizer"]["lower"], cfg["regularizer"]["upper"]
    for c in counts:
        if lo["strength"] > 0:
            loss = loss + lo["strength"] * (torch.relu(lo["threshold"] - c) ** 2).mean()
        if up["strength"] > 0:
            excess = torch.relu(c.mean(1) - up["threshold"])
            loss = loss + up["strength"] * (excess ** up["power"]).mean()
    return {"loss": loss, "logits": logits, "counts": counts, "margin": margin, "readout_gap": readout_gap}
