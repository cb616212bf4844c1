#!/usr/bin/env python3
"""PyTorch reference for tools/bench/models.mjs: the same LeNet-300-100 and Conv-2 training step
(forward, softmax cross-entropy, backward, Adam update; unmasked, as the issue's speed goal says)
at the paper's batch size 60, median of several steps, with 1 thread and with every core.
Prints a JSON list of rows {name, backend, ms, runs, note}."""
import json
import os
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from torch_blas import blas, set_threads


def lenet():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 300), nn.ReLU(), nn.Linear(300, 100), nn.ReLU(), nn.Linear(100, 10))


def conv2():
    return nn.Sequential(
        nn.Conv2d(3, 64, 3, padding=1), nn.ReLU(), nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 16 * 64, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10),
    )


def bench(make, shape, lr, runs):
    torch.manual_seed(0)
    model = make()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    x = torch.randn(*shape)
    y = torch.randint(0, 10, (shape[0],))

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    step()
    ts = []
    for _ in range(runs):
        t = time.perf_counter()
        step()
        ts.append((time.perf_counter() - t) * 1000)
    return statistics.median(ts)


def main():
    rows = []
    lib = blas()
    warn = "; REFERENCE BLAS: install libopenblas0-openmp (tools/bench/torch_blas.py)" if lib["reference"] else ""
    warn += "; OpenBLAS pthread build: its pool competes with torch's threads" if lib["pthreadPool"] else ""
    cores = os.cpu_count() or 1
    for threads in sorted({1, cores}):
        set_threads(threads)
        for name, make, shape, lr, runs in [
            ("lenet_300_100", lenet, (60, 1, 28, 28), 1.2e-3, 30),
            ("conv2", conv2, (60, 3, 32, 32), 2e-4, 5),
        ]:
            ms = bench(make, shape, lr, runs)
            rows.append({"name": f"{name} train step", "backend": f"torch{threads}t", "ms": ms, "runs": runs,
                         "note": f"PyTorch {torch.__version__}, {threads} thread(s), batch 60, unmasked, BLAS {lib['library']}{warn}"})
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
