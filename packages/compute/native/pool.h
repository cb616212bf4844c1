// A small pool of helper threads for the dense chain (mlp.cc). Why not OpenBLAS's own threads:
// its results change with its thread count, and a stage's thread budget changes with what else
// the executor runs. Here the caller fixes the tasks (how each product is split) from the shapes
// alone, and threads only decide who runs which task, so a result never depends on the budget.
#pragma once
#include <functional>

namespace lth {

// Runs task(0) .. task(tasks - 1) on up to `threads` threads, the caller's included, and
// returns when all have finished. Tasks must write disjoint memory.
void parallelFor(unsigned threads, unsigned tasks, const std::function<void(unsigned)>& task);

}  // namespace lth
