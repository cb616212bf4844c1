// The PyTorch side of the benchmarks (tools/bench/*.py), found and configured in one place so
// every ratio is against the same, best-configured PyTorch.
//
// Debian's python3-torch multiplies through the system's libblas.so.3 (tools/bench/torch_blas.py):
// - netlib's reference BLAS when nothing better is installed: ~30x slower products, so any
//   ratio against it is meaningless (the scripts flag it, the rows say so);
// - libopenblas0-pthread (the default when installed: highest alternatives priority): its own
//   thread pool spins beside torch's OpenMP threads, so with 2 threads on 2 cores the lottery
//   script's LeNet step took 13.7 ms against 6.9 ms with 1 thread (measured 2026-12-01);
// - libopenblas0-openmp: shares torch's OpenMP pool; 5.2 ms with 2 threads. This is what the
//   benchmarks load when it is installed (LD_LIBRARY_PATH ahead of the alternatives link).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const OPENMP_BLAS = '/usr/lib/x86_64-linux-gnu/openblas-openmp';

/** The environment the PyTorch scripts run in: OpenMP OpenBLAS first when it is installed. */
export function torchEnv(base = process.env) {
  if (!existsSync(`${OPENMP_BLAS}/libblas.so.3`)) return { ...base };
  return { ...base, LD_LIBRARY_PATH: [OPENMP_BLAS, base.LD_LIBRARY_PATH].filter(Boolean).join(':') };
}

/**
 * A Python with torch and numpy: LTH_BENCH_PYTHON, else the system python3 (Debian's torch is
 * there; the PATH python3 may be another one). `{ python, version }` or `{ why }`.
 */
export function findTorch() {
  const candidates = [process.env['LTH_BENCH_PYTHON'], '/usr/bin/python3', 'python3'].filter(Boolean);
  const reasons = [];
  for (const python of candidates) {
    const r = spawnSync(python, ['-c', 'import torch, numpy; print(torch.__version__)'], { encoding: 'utf8', env: torchEnv() });
    if (r.status === 0) return { python, version: r.stdout.trim() };
    reasons.push(`${python}: ${(r.error?.message ?? r.stderr ?? '').trim().split('\n').pop()}`);
  }
  return { why: `no Python with torch and numpy (${reasons.join('; ')}); apt-get install python3-torch, or set LTH_BENCH_PYTHON` };
}
