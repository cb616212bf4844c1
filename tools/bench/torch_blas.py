"""Which BLAS the running PyTorch multiplies with, for the benchmarks' PyTorch references.

Debian's python3-torch is built with BLAS_INFO=generic: its dense products (torch.mm, addmm,
nn.Linear) go through whatever libblas.so.3 the system's alternatives point at. Without an
optimized BLAS installed that is the netlib reference implementation, ~30x slower on a
500x784x300 product here (83 ms against 2.6 ms with OpenBLAS), which makes any "faster than
PyTorch" claim meaningless. `apt-get install libopenblas0-pthread` switches the alternative.
Convolutions go through oneDNN and are not affected.
"""
import ctypes
import os

import torch


def blas():
    """{"library": path of the loaded BLAS, "reference": True when it is netlib's reference BLAS}."""
    torch.ones(8, 8) @ torch.ones(8, 8)  # make sure the BLAS is loaded
    libs = set()
    with open("/proc/self/maps") as f:
        for line in f:
            path = line.split()[-1] if len(line.split()) >= 6 else ""
            name = path.rsplit("/", 1)[-1]
            if name.startswith(("libblas", "libopenblas", "libmkl_rt", "libblis")):
                libs.add(path)
    real = sorted({os.path.realpath(p) for p in libs})
    reference = any("/blas/libblas" in p for p in real) and not any(
        ("openblas" in p) or ("mkl" in p) or ("blis" in p) for p in real
    )
    return {"library": ", ".join(real) or "unknown", "reference": reference}


def set_threads(n):
    """torch.set_num_threads(n), and the same for OpenBLAS's own pool: a torch built with
    BLAS_INFO=generic does not pass the count on, so "1 thread" would still multiply on every core."""
    torch.set_num_threads(n)
    for path in blas()["library"].split(", "):
        if "openblas" in path:
            try:
                ctypes.CDLL(path).openblas_set_num_threads(n)
            except (OSError, AttributeError):
                pass
