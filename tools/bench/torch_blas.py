"""Which BLAS the running PyTorch multiplies with, for the benchmarks' PyTorch references.

Debian's python3-torch is built with BLAS_INFO=generic: its dense products (torch.mm, addmm,
nn.Linear) go through whatever libblas.so.3 the system's alternatives point at. Without an
optimized BLAS installed that is the netlib reference implementation, ~30x slower on a
500x784x300 product here (83 ms against 2.6 ms with OpenBLAS), which makes any "faster than
PyTorch" claim meaningless. Installing OpenBLAS switches the alternative: use the OpenMP build
(libopenblas0-openmp), which shares torch's OpenMP threads. The pthread build (which wins the
alternatives when both are installed) keeps a pool of its own that spins beside torch's, and
with 2 threads on 2 cores the lottery script's LeNet step took 13.7 ms against 5.2 ms with the
OpenMP build (tools/bench-lib/torch.mjs puts the OpenMP build first). Convolutions go through
oneDNN and are not affected.
"""
import ctypes
import os

import torch


def blas():
    """{"library": path of the loaded BLAS, "reference": True when it is netlib's reference BLAS,
    "pthreadPool": True for OpenBLAS's pthread build (its threads compete with torch's)}."""
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
    pthread_pool = any("openblas-pthread" in p for p in real)
    return {"library": ", ".join(real) or "unknown", "reference": reference, "pthreadPool": pthread_pool}


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
