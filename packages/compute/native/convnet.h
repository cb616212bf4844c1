// The convolutional part of the native conv-net step and forward (convnet_step.cc,
// convnet_forward.cc): 3x3 'same' convolutions with bias, each followed by ReLU and optionally
// a 2x2 stride-2 max-pool, in NHWC. The first convolution (few input channels, no input
// gradient needed) is an im2col product; the others are Winograd F(4x4, 3x3) (winograd.h),
// whose 36 point products are independent tasks. Every split (row chunks, tile chunks, points)
// is fixed by the shapes alone, so results are the same for any thread budget.
#pragma once
#include <cstdint>
#include <vector>
#include "chain.h"
#include "scratch.h"
#include "winograd.h"

namespace lth {
namespace convnet {

constexpr uint32_t kRowChunk = 1024;  // im2col rows per task
constexpr uint32_t kTileChunk = 64;   // Winograd tiles per task

struct Conv {
  uint32_t H, W, ci, co;  // input (= output) size and channels
  bool pool;
  Scratch a;        // ReLU(conv(in) + b), [B, H, W, co]
  Scratch pooled;   // a max-pooled, [B, H/2, W/2, co]
  Scratch V;        // Winograd: the input's transform, kept for the filter gradient (a step)
  Scratch dz;       // the gradient of conv(in) + b
  Scratch gin;      // the gradient of in (not for the first layer)
};

// Scratch shared by the layers of one pass: im2col patches, a filter's transform, the Winograd
// blocks' transform-domain data (winogradBlocks' scratch).
struct Buffers {
  Scratch patches, U, M;
};

// Sizes the convolutions of images [H, W, C0] from their (filters, pool) fields, `stride` apart:
// false when a size is out of range. *flat: the last one's outputs per image.
bool shapes(uint32_t B, uint32_t H, uint32_t W, uint32_t C0, uint32_t NC, const uint32_t* fields, uint32_t stride, std::vector<Conv>& convs, uint64_t* flat);

// Allocates what forward() writes for a batch of B (with keepV as forward's); false when memory ran out.
bool reserveForward(uint32_t B, std::vector<Conv>& convs, Buffers& buf, bool keepV);

// The forward pass of x [B, H, W, C0] through the convolutions (weights w[k] HWIO, biases b[k]
// or null); returns the last one's (pooled) output, [B, flat]. keepV: each Winograd layer's
// input transform is kept in its V for the filter gradient (a step); else it stays in the
// blocks' scratch (an evaluation).
const float* forward(uint32_t B, const float* x, std::vector<Conv>& convs, const float* const* w, const float* const* b, Buffers& buf, bool keepV,
                     unsigned threads);

// Tasks for y [B, H, W, co] = the Winograd convolution of x [B, H, W, ci] by the transformed
// filter U (+ bias, then ReLU when `relu`), kTileChunk tiles a task: each task transforms its
// tiles, runs the 36 point products on them and transforms them back, so a block's transforms
// stay in cache between the three (whole-batch passes sent ~100 MB through memory for Conv-2's
// layer). The input transform goes to keepV ([36][T][ci]) when given (the filter gradient reads
// it), else to scratch, which holds T * 36 * (co + ci) floats (T * 36 * co with keepV).
void winogradBlocks(Tasks& tasks, const wino::Tiles& t, uint32_t ci, uint32_t co, const float* x, const float* U, const float* bias, bool relu, float* y,
                    float* keepV, float* scratch);

// Images [b0, b1) of dz [B, H, W, C]: g, the gradient of the pool's output (or of a itself when
// !pool), routed to each window's first maximum (tfjs' MaxPoolGrad), times ReLU's derivative.
void poolReluBackward(const float* a, const float* g, uint32_t H, uint32_t W, uint32_t C, bool pool, float* dz, uint32_t b0, uint32_t b1);

// The bias gradient: the column sums of dz [rows, C], in row order.
void columnSums(const float* dz, uint32_t rows, uint32_t C, float* sum);

// Tasks over [0, n) in chunks of `chunk`, each calling f(begin, end).
template <typename F>
void chunks(Tasks& tasks, uint32_t n, uint32_t chunk, F f) {
  for (uint32_t b = 0; b < n; b += chunk) {
    const uint32_t e = n - b < chunk ? n : b + chunk;
    tasks.add([=] { f(b, e); });
  }
}

}  // namespace convnet
}  // namespace lth
