// One training step of a chain of dense layers (x·W + b, ReLU between) with mean softmax
// cross-entropy and a masked Adam or SGD update, in place on tfjs-backend-wasm's heap
// (src/wasm/mlp/native-chain.ts). Why: with native products a LeNet-300-100 step spent ~4 of its
// ~5.7 ms in ~90 small tfjs kernels around 1.3 ms of products; here it is the products and two
// passes over the weights.
//
// The forward, loss, backward and update are chain.h's (shared with the conv net); this file
// reads and checks the descriptors. The products are OpenBLAS's, as with LTH_NATIVE_BLAS=1 alone.
#include <node_api.h>
#include <cstdint>
#include <vector>
#include "chain.h"
#include "napi_args.h"
#include "pool.h"

using lth::Fail;
using lth::Heap;
using lth::kNone;
using namespace lth;

namespace {

// The header of the descriptor, then dims[layers + 1], then kDenseFields (chain.h) per layer.
enum Header { kBatch, kLayers, kX, kLabels, kOptimizer, kHeader };

}  // namespace

// mlpStep(heap: ArrayBuffer, desc: Uint32Array, scalars: Float64Array, threads) -> mean loss of the batch.
napi_value MlpStep(napi_env env, napi_callback_info info) {
  HeapCall call;
  if (!readHeapCall(env, info, "lth_sgemm.mlpStep", kHeader, &call)) return nullptr;
  const Heap& heap = call.heap;
  const unsigned threads = call.threads;
  const uint32_t* d = call.desc;
  const uint32_t B = d[kBatch], L = d[kLayers], opt = d[kOptimizer];
  if (B == 0 || L == 0 || L > 64 || call.descLen != kHeader + (L + 1) + L * kDenseFields || opt > kSgd)
    return Fail(env, "lth_sgemm.mlpStep: descriptor size does not match its batch, layers and optimizer");
  float s[kAdamScalars];
  if (!readScalars(env, call, opt, "lth_sgemm.mlpStep", s)) return nullptr;
  const uint32_t* dims = d + kHeader;
  const uint32_t* fields = dims + L + 1;
  if (!lth::widthsOk(dims, L)) return Fail(env, "lth_sgemm.mlpStep: layer widths must be in 1..2^24");
  const float* x = heap.at<float>(d[kX], (uint64_t)B * dims[0]);
  const int32_t* labels = heap.at<int32_t>(d[kLabels], B);
  if (!x || !labels) return Fail(env, "lth_sgemm.mlpStep: the batch lies outside the heap");
  const uint32_t C = dims[L];
  for (uint32_t r = 0; r < B; r++)
    if (labels[r] < 0 || (uint32_t)labels[r] >= C) return Fail(env, "lth_sgemm.mlpStep: a label is not a class index");

  // Resolve and check every operand before touching anything: an error leaves the weights as they were.
  std::vector<Param> params;  // per layer: weight, then bias (n = 0 when absent)
  const bool momentum = opt == kSgd && s[kMomentum] > 0;
  if (!resolveDense(heap, L, dims, fields, opt, momentum, params)) return Fail(env, "lth_sgemm.mlpStep: a parameter, mask or optimizer slot lies outside the heap");

  static std::vector<std::vector<float>> grads;
  grads.resize(params.size());
  const float lossSum = denseChainGradients(B, L, dims, fields, x, labels, params.data(), grads.data(), nullptr, threads);
  update(params, grads, opt, s, threads);
  napi_value result;
  napi_create_double(env, -static_cast<double>(lossSum / static_cast<float>(B)), &result);
  return result;
}

// mlpForward(heap: ArrayBuffer, desc: Uint32Array, threads): the logits of a batch, written at
// desc's output offset. desc = [batch, layers, x, out, dims[layers + 1]..., per layer: W, b, relu].
// A batch of at least kSplitRows rows runs as two halves of rows, each through the whole chain
// (whole products per half: an evaluation batch of 500 costs the same split or not), on up to
// `threads` threads; as with the step's products the split depends on the batch size alone.
constexpr uint32_t kSplitRows = 64;

napi_value MlpForward(napi_env env, napi_callback_info info) {
  HeapCall call;
  if (!readHeapCall(env, info, "lth_sgemm.mlpForward", 4, &call, false)) return nullptr;
  const Heap& heap = call.heap;
  const unsigned threads = call.threads;
  const uint32_t* d = call.desc;
  const size_t descLen = call.descLen;
  const uint32_t B = d[0], L = d[1];
  if (B == 0 || L == 0 || L > 64 || descLen != 4 + (L + 1) + 3 * L) return Fail(env, "lth_sgemm.mlpForward: descriptor size does not match its layers");
  const uint32_t* dims = d + 4;
  const uint32_t* fields = dims + L + 1;
  if (!lth::widthsOk(dims, L)) return Fail(env, "lth_sgemm.mlpForward: layer widths must be in 1..2^24");
  const float* x = heap.at<float>(d[2], (uint64_t)B * dims[0]);
  float* out = heap.at<float>(d[3], (uint64_t)B * dims[L]);
  if (!x || !out) return Fail(env, "lth_sgemm.mlpForward: the batch or the output lies outside the heap");
  std::vector<const float*> w, b;
  std::vector<bool> relu;
  if (!resolveForwardDense(heap, L, dims, fields, w, b, relu)) return Fail(env, "lth_sgemm.mlpForward: a weight lies outside the heap");
  // Rows [0, half) and [half, B); each half has its own hidden activations.
  const uint32_t half = B >= kSplitRows ? (B / 2 + 7) / 8 * 8 : B;
  static std::vector<std::vector<float>> acts[2];
  std::vector<float*> outs[2];
  for (unsigned p = 0; p < 2; p++) {
    const uint32_t rows = p == 0 ? half : B - half;
    acts[p].resize(L);
    outs[p].resize(L);
    for (uint32_t l = 0; l < L; l++) {
      if (l + 1 < L) {
        acts[p][l].resize((size_t)rows * dims[l + 1]);
        outs[p][l] = acts[p][l].data();
      } else {
        outs[p][l] = out + (p == 0 ? 0 : (size_t)half * dims[L]);
      }
    }
  }
  lth::parallelFor(threads, half < B ? 2 : 1, [&](unsigned p) {
    const uint32_t r0 = p == 0 ? 0 : half;
    denseForward(p == 0 ? half : B - half, L, dims, x + (size_t)r0 * dims[0], w.data(), b.data(), relu, outs[p].data(), false, 1);
  });
  return nullptr;
}
