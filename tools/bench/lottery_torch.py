#!/usr/bin/env python3
"""PyTorch reference for tools/bench/experiment.mjs (issue 18): the same small lottery experiment
as tools/bench/lottery.yaml run through `lth run`, written the way a researcher would in PyTorch.

- LeNet-300-100 (784-300-100-10, ReLU), Glorot normal init (N(0, 2/(fan_in+fan_out)), biases 0).
- Adam lr 1.2e-3, batch 60, mean softmax cross-entropy; batches drawn without replacement per
  epoch.
- MNIST 55,000 / 5,000 / 10,000: the exact bytes of lth's dataset artifact (same hold-out, same
  normalization), exported by the bench as images.u8 / labels.u8 / meta.json in --data.
- Evaluation at 0, every --eval-every iterations and at the end: the first 2,000 training
  examples, validation and test, in batches of 500, in eval mode without gradients.
- Rounds: a dense training, then per round layerwise magnitude pruning of the last ticket's
  trained weights (fc 20%, output 10% of the remaining weights, rounded half up), the
  surviving weights reset to w0 and trained (the ticket), and the same mask on a fresh Glorot
  draw (the random-reinit control). Masks multiply the weights before training and the
  gradients and weights after every step, so pruned weights stay exactly 0.

Prints one JSON object: per training its round, variant, Pm, early-stop iteration and test
accuracy there, final test accuracy; and where the time went (steps, evaluation, pruning).
"""
import argparse
import json
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

from torch_blas import blas, set_threads

LAYERS = [(784, 300, "fc"), (300, 100, "fc"), (100, 10, "output")]
RATES = {"fc": 0.2, "output": 0.1}


def load(data_dir):
    with open(os.path.join(data_dir, "meta.json")) as f:
        meta = json.load(f)
    h, w, c = meta["shape"]
    images = np.fromfile(os.path.join(data_dir, "images.u8"), dtype=np.uint8).reshape(-1, h * w * c)
    labels = np.fromfile(os.path.join(data_dir, "labels.u8"), dtype=np.uint8).astype(np.int64)
    # Single channel (MNIST): (v / 255 - mean) / std with the training split's statistics.
    x = (images.astype(np.float32) / 255.0 - meta["mean"][0]) / meta["std"][0]
    splits = {}
    for name, r in meta["splits"].items():
        a, n = r["offset"], r["count"]
        splits[name] = (torch.from_numpy(x[a : a + n].copy()), torch.from_numpy(labels[a : a + n].copy()))
    return splits


def glorot(seed):
    g = torch.Generator().manual_seed(seed)
    params = []
    for fan_in, fan_out, _ in LAYERS:
        std = (2.0 / (fan_in + fan_out)) ** 0.5
        params.append([torch.randn(fan_in, fan_out, generator=g) * std, torch.zeros(fan_out)])
    return params


def forward(params, x):
    h = x
    for i, (w, b) in enumerate(params):
        h = torch.addmm(b, h, w)
        if i < len(params) - 1:
            h = F.relu(h)
    return h


def evaluate(params, x, y, batch=500):
    loss, correct = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(y), batch):
            logits = forward(params, x[i : i + batch])
            loss += F.cross_entropy(logits, y[i : i + batch], reduction="sum").item()
            correct += (logits.argmax(1) == y[i : i + batch]).sum().item()
    return loss / len(y), correct / len(y)


def train(start, masks, splits, args, clock):
    params = [[w.clone().mul_(m).requires_grad_(), b.clone().requires_grad_()] for (w, b), m in zip(start, masks)]
    flat = [p for pair in params for p in pair]
    opt = torch.optim.Adam(flat, lr=args.lr)
    xtr, ytr = splits["train"]
    evals = {
        "train": (xtr[: args.train_eval], ytr[: args.train_eval]),
        "validation": splits["validation"],
        "test": splits["test"],
    }
    g = torch.Generator().manual_seed(args.seed)
    order, pos = torch.randperm(len(ytr), generator=g), 0
    rows = []

    def run_eval(it):
        t0 = time.perf_counter()
        for split, (x, y) in evals.items():
            loss, acc = evaluate(params, x, y)
            rows.append((it, split, loss, acc))
        clock["evaluation"] += time.perf_counter() - t0

    run_eval(0)
    for it in range(1, args.iterations + 1):
        t0 = time.perf_counter()
        if pos + args.batch > len(order):
            order, pos = torch.randperm(len(ytr), generator=g), 0
        idx = order[pos : pos + args.batch]
        pos += args.batch
        opt.zero_grad()
        loss = F.cross_entropy(forward(params, xtr[idx]), ytr[idx])
        loss.backward()
        with torch.no_grad():
            for (w, _), m in zip(params, masks):
                w.grad.mul_(m)
        opt.step()
        with torch.no_grad():
            for (w, _), m in zip(params, masks):
                w.mul_(m)
        clock["steps"] += time.perf_counter() - t0
        if it % args.eval_every == 0 or it == args.iterations:
            run_eval(it)
    val = [r for r in rows if r[1] == "validation"]
    best = min(val, key=lambda r: (r[2], r[0]))  # minimum validation loss, earliest on ties
    test_at = {r[0]: r[3] for r in rows if r[1] == "test"}
    trained = [[w.detach(), b.detach()] for w, b in params]
    return trained, {"earlyStop": best[0], "testAtEarlyStop": test_at[best[0]], "finalTest": test_at[args.iterations]}


def prune(trained, masks):
    out = []
    for (w, _), m, (_, _, role) in zip(trained, masks, LAYERS):
        kept = int(m.sum().item())
        count = min(kept, int(np.floor(RATES[role] * kept + 0.5)))
        mag = torch.where(m.bool(), w.abs(), torch.full_like(w, float("inf"))).flatten()
        # Lowest magnitudes first, the lower index first on ties (stable sort).
        drop = torch.sort(mag, stable=True).indices[:count]
        new = m.clone().flatten()
        new[drop] = 0
        out.append(new.reshape(m.shape))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--iterations", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--eval-every", type=int, default=100)
    ap.add_argument("--train-eval", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=60)
    ap.add_argument("--lr", type=float, default=1.2e-3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    t_start = time.perf_counter()
    set_threads(args.threads)
    torch.manual_seed(args.seed)
    splits = load(args.data)
    clock = {"steps": 0.0, "evaluation": 0.0, "pruning": 0.0}
    w0 = glorot(args.seed)
    total = sum(w.numel() for w, _ in w0)
    masks = [torch.ones_like(w) for w, _ in w0]
    trained, summary = train(w0, masks, splits, args, clock)
    results = [{"round": 0, "variant": "dense", "pm": 1.0, **summary}]
    for r in range(1, args.rounds + 1):
        t0 = time.perf_counter()
        masks = prune(trained, masks)
        clock["pruning"] += time.perf_counter() - t0
        pm = sum(int(m.sum().item()) for m in masks) / total
        trained, summary = train(w0, masks, splits, args, clock)
        results.append({"round": r, "variant": "ticket", "pm": pm, **summary})
        _, summary = train(glorot(10_000 + args.seed * 100 + r), masks, splits, args, clock)
        results.append({"round": r, "variant": "reinit", "pm": pm, **summary})
    wall = time.perf_counter() - t_start
    print(
        json.dumps(
            {
                "torch": torch.__version__,
                "threads": args.threads,
                "blas": blas(),
                "wallMs": wall * 1000,
                "ms": {k: v * 1000 for k, v in clock.items()},
                "results": results,
            }
        )
    )


if __name__ == "__main__":
    main()
