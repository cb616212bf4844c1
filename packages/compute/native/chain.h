// The pieces of a dense-chain training step shared by the dense chain (mlp.cc) and the conv net
// (convnet.cc): products split by shape, the forward, the loss, the backward and the update.
// Every elementwise formula follows the tfjs ops it replaces, in their order (no FMA
// contraction: binding.gyp builds with -ffp-contract=off), so the optimizer update is
// bit-identical to @lth/compute's adamUpdate for the same gradient.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>
#include "napi_args.h"

namespace lth {

enum Optimizer { kAdam = 0, kSgd = 1 };
// Scalars (float64, rounded to float32 as tfjs' scalar tensors are):
//   Adam: beta1, 1-beta1, beta2, 1-beta2, epsilon, stepSize, sqrtBc2, weightDecay
//   SGD:  lr, momentum, nesterov (0/1), weightDecay
enum AdamScalar { kB1, kOb1, kB2, kOb2, kEps, kStep, kSb2, kAdamWd, kAdamScalars };
enum SgdScalar { kLr, kMomentum, kNesterov, kSgdWd, kSgdScalars };

// A row-major C[m, n] = op(A)[m, k] · op(B)[k, n] (ldc = n).
struct Gemm {
  bool ta, tb;
  uint32_t m, n, k;
  const float* a;
  uint32_t lda;
  const float* b;
  uint32_t ldb;
  float* c;
};
void gemmColumns(const Gemm& g, uint32_t c0, uint32_t c1);

// A list of independent tasks run with lth::parallelFor.
struct Tasks {
  std::vector<std::function<void()>> list;
  void add(std::function<void()> f) { list.push_back(std::move(f)); }
  void run(unsigned threads);
  // The product in its column parts (large products in two, chosen by shape alone), each
  // followed by `then(c0, c1)` on its own columns.
  void gemm(const Gemm& g, std::function<void(uint32_t, uint32_t)> then = nullptr);
};

// A trained tensor: its values, 0/1 mask (or null), optimizer slots, element count.
struct Param {
  float* p;
  const float* mask;
  float* slot0;
  float* slot1;
  uint64_t n;
};

// The arguments of a call on the heap, a step's (heap, descriptor, scalars, threads) or, with
// `scalars` false, a forward pass's (heap, descriptor, threads), read and checked (a descriptor
// of at least `header` entries): false, with the error thrown as `who: ...`, otherwise.
struct HeapCall {
  Heap heap;
  unsigned threads;
  const uint32_t* desc;
  size_t descLen;
  const double* scalars;
  size_t scalarCount;
};
bool readHeapCall(napi_env env, napi_callback_info info, const char* who, size_t header, HeapCall* call, bool scalars = true);

// The scalars of optimizer `opt` rounded to float32 into s[kAdamScalars]; false, with the error
// thrown, when the call has another number of them.
bool readScalars(napi_env env, const HeapCall& call, unsigned opt, const char* who, float* s);

// A trained tensor from its four descriptor fields (value, mask, slot 0, slot 1, heap offsets)
// and its element count; false when any of them lies outside the heap or a slot the optimizer
// needs is missing. `optional` (a bias): an absent value (kNone) gives p = null, n = 0.
bool resolveParam(const Heap& heap, const uint32_t* f, uint64_t n, unsigned opt, bool momentum, bool optional, Param* q);

// A dense layer's fields in a step's descriptor (mlp.cc, convnet_step.cc).
enum DenseField { kW, kWMask, kWSlot0, kWSlot1, kB, kBMask, kBSlot0, kBSlot1, kRelu, kDenseFields };

// resolveParam for the weight and bias of each of L dense layers (fields: kDenseFields per
// layer), appended to params; false when any is missing or outside the heap.
bool resolveDense(const Heap& heap, uint32_t L, const uint32_t* dims, const uint32_t* fields, unsigned opt, bool momentum, std::vector<Param>& params);

// A forward pass's dense layers from [W, b, relu] fields (3 per layer): weights, biases (null
// when absent) and ReLU flags; false when a weight lies outside the heap.
bool resolveForwardDense(const Heap& heap, uint32_t L, const uint32_t* dims, const uint32_t* fields, std::vector<const float*>& w, std::vector<const float*>& b,
                         std::vector<bool>& relu);

// Layer by layer: outs[l] = in·W[l] (+ b[l]), ReLU where flagged; in is x, then outs[l - 1].
// `split`: large products in column parts, run on up to `threads` threads.
void denseForward(uint32_t B, uint32_t L, const uint32_t* dims, const float* x, const float* const* w, const float* const* b, const std::vector<bool>& relu,
                  float* const* outs, bool split, unsigned threads);

// Mean softmax cross-entropy of logits z [B, C]: returns the sum of log-probabilities of the
// labels (the loss is -sum / B) and writes dz, its gradient as tfjs composes it.
float softmaxLoss(uint32_t B, uint32_t C, const float* z, const int32_t* labels, float* dz);

// Backward through the dense chain, from up = the logits' gradient (consumed). acts[l] is layer
// l's input for l >= 1 (x for l = 0), ReLU's output where flagged. Weight and bias gradients
// go to grads[2l], grads[2l + 1] (params likewise: weight, then bias with p null when absent); with dx, the chain input's gradient [B, dims[0]] too.
void denseBackward(uint32_t B, uint32_t L, const uint32_t* dims, const float* x, const std::vector<std::vector<float>>& acts, const std::vector<bool>& relu,
                   const Param* params, std::vector<float>& up, std::vector<float>* grads, float* dx, unsigned threads);

// The dense chain's part of a step on x [B, dims[0]]: forward (ReLU per fields' kRelu), mean
// softmax cross-entropy against labels, backward into grads[2l], grads[2l + 1] (params: weight
// and bias per layer) and, with dx, x's gradient. Returns the sum of the labels'
// log-probabilities (the loss is -sum / B). Its activations persist across calls.
float denseChainGradients(uint32_t B, uint32_t L, const uint32_t* dims, const uint32_t* fields, const float* x, const int32_t* labels, const Param* params,
                          std::vector<float>* grads, float* dx, unsigned threads);

// The masked Adam or SGD update of every param with n > 0 from its gradient, in chunks.
void update(const std::vector<Param>& params, const std::vector<std::vector<float>>& grads, unsigned opt, const float* s, unsigned threads);

}  // namespace lth
