// One training step of a chain of dense layers (x·W + b, ReLU between) with mean softmax
// cross-entropy and a masked Adam or SGD update, in place on tfjs-backend-wasm's heap
// (src/wasm/mlp/native-chain.ts). Why: with native products a LeNet-300-100 step spent ~4 of its
// ~5.7 ms in ~90 small tfjs kernels around 1.3 ms of products; here it is the products and two
// passes over the weights.
//
// Every elementwise formula follows the tfjs ops it replaces, in their order (no FMA contraction:
// binding.gyp builds with -ffp-contract=off), so the optimizer update is bit-identical to
// @lth/compute's adamUpdate for the same gradient; the products are OpenBLAS's, as with
// LTH_NATIVE_BLAS=1 alone.
#include <node_api.h>
#include <cblas.h>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>
#include "napi_args.h"

using lth::Fail;
using lth::Heap;
using lth::kNone;

namespace {

// The header of the descriptor, then dims[layers + 1], then kLayerFields per layer.
enum Header { kBatch, kLayers, kX, kLabels, kOptimizer, kHeader };
enum LayerField { kW, kWMask, kWSlot0, kWSlot1, kB, kBMask, kBSlot0, kBSlot1, kRelu, kLayerFields };
enum Optimizer { kAdam = 0, kSgd = 1 };
// Scalars (float64, rounded to float32 as tfjs' scalar tensors are):
//   Adam: beta1, 1-beta1, beta2, 1-beta2, epsilon, stepSize, sqrtBc2, weightDecay
//   SGD:  lr, momentum, nesterov (0/1), weightDecay
enum AdamScalar { kB1, kOb1, kB2, kOb2, kEps, kStep, kSb2, kAdamWd, kAdamScalars };
enum SgdScalar { kLr, kMomentum, kNesterov, kSgdWd, kSgdScalars };

__attribute__((target_clones("avx2", "default"))) void adam(float* __restrict p, float* __restrict m, float* __restrict v, const float* __restrict g, const float* __restrict k, uint64_t n, const float* s) {
  const float b1 = s[kB1], ob1 = s[kOb1], b2 = s[kB2], ob2 = s[kOb2], eps = s[kEps], step = s[kStep], sb2 = s[kSb2], wd = s[kAdamWd];
  for (uint64_t i = 0; i < n; i++) {
    float gi = g[i];
    if (wd > 0) gi = gi + p[i] * wd;
    if (k) gi = gi * k[i];
    const float mi = m[i] * b1 + gi * ob1;
    const float vi = v[i] * b2 + (gi * gi) * ob2;
    float next = p[i] - (mi / (std::sqrt(vi) / sb2 + eps)) * step;
    if (k) next = next * k[i] + 0.0f;
    m[i] = mi;
    v[i] = vi;
    p[i] = next;
  }
}

__attribute__((target_clones("avx2", "default"))) void sgd(float* __restrict p, float* __restrict buf, const float* __restrict g, const float* __restrict k, uint64_t n, const float* s) {
  const float lr = s[kLr], mom = s[kMomentum], wd = s[kSgdWd];
  const bool nesterov = s[kNesterov] != 0;
  for (uint64_t i = 0; i < n; i++) {
    float gi = g[i];
    if (wd > 0) gi = gi + p[i] * wd;
    if (k) gi = gi * k[i];
    float d = gi;
    if (buf) {
      buf[i] = buf[i] * mom + gi;
      d = nesterov ? gi + buf[i] * mom : buf[i];
    }
    float next = p[i] - d * lr;
    if (k) next = next * k[i] + 0.0f;
    p[i] = next;
  }
}

// Layer by layer: outs[l] = in·W[l] (+ b[l]), ReLU where flagged; in is x, then outs[l - 1].
void forward(uint32_t B, uint32_t L, const uint32_t* dims, const float* x, const float* const* w, const float* const* b, const std::vector<bool>& relu,
             float* const* outs) {
  for (uint32_t l = 0; l < L; l++) {
    const float* in = l == 0 ? x : outs[l - 1];
    float* out = outs[l];
    const uint32_t n = dims[l + 1];
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)B, (int)n, (int)dims[l], 1.0f, in, (int)dims[l], w[l], (int)n, 0.0f, out, (int)n);
    const float* bias = b[l];
    for (uint32_t r = 0; r < B; r++) {
      float* o = out + (size_t)r * n;
      if (bias)
        for (uint32_t j = 0; j < n; j++) o[j] = o[j] + bias[j];
      if (relu[l])
        for (uint32_t j = 0; j < n; j++) o[j] = o[j] > 0 ? o[j] : 0.0f;  // tfjs Relu: max(z, 0)
    }
  }
}

struct Param {
  float* p;
  const float* mask;
  float* slot0;
  float* slot1;
  uint64_t n;
};

}  // namespace

// mlpStep(heap: ArrayBuffer, desc: Uint32Array, scalars: Float64Array) -> mean loss of the batch.
napi_value MlpStep(napi_env env, napi_callback_info info) {
  napi_value args[3];
  Heap heap;
  if (!lth::heapCall(env, info, 3, args, heap, "lth_sgemm.mlpStep", "(heap, descriptor, scalars)")) return nullptr;
  const uint32_t* d;
  const double* scalarData;
  size_t descLen, scalarLen;
  if (!lth::typedArg(env, args[1], napi_uint32_array, &d, &descLen)) return Fail(env, "lth_sgemm.mlpStep: the descriptor must be a Uint32Array");
  if (!lth::typedArg(env, args[2], napi_float64_array, &scalarData, &scalarLen)) return Fail(env, "lth_sgemm.mlpStep: the scalars must be a Float64Array");
  if (descLen < kHeader) return Fail(env, "lth_sgemm.mlpStep: descriptor too short");
  const uint32_t B = d[kBatch], L = d[kLayers], opt = d[kOptimizer];
  if (B == 0 || L == 0 || L > 64 || descLen != kHeader + (L + 1) + L * kLayerFields || opt > kSgd)
    return Fail(env, "lth_sgemm.mlpStep: descriptor size does not match its batch, layers and optimizer");
  if (scalarLen != (opt == kAdam ? (size_t)kAdamScalars : (size_t)kSgdScalars)) return Fail(env, "lth_sgemm.mlpStep: wrong number of scalars for the optimizer");
  float s[kAdamScalars];
  for (size_t i = 0; i < scalarLen; i++) s[i] = static_cast<float>(scalarData[i]);
  const uint32_t* dims = d + kHeader;
  const uint32_t* fields = dims + L + 1;
  for (uint32_t i = 0; i <= L; i++)
    if (dims[i] == 0 || dims[i] > (1u << 24)) return Fail(env, "lth_sgemm.mlpStep: layer widths must be in 1..2^24");
  const float* x = heap.at<float>(d[kX], (uint64_t)B * dims[0]);
  const int32_t* labels = heap.at<int32_t>(d[kLabels], B);
  if (!x || !labels) return Fail(env, "lth_sgemm.mlpStep: the batch lies outside the heap");
  const uint32_t C = dims[L];
  for (uint32_t r = 0; r < B; r++)
    if (labels[r] < 0 || (uint32_t)labels[r] >= C) return Fail(env, "lth_sgemm.mlpStep: a label is not a class index");

  // Resolve and check every operand before touching anything: an error leaves the weights as they were.
  std::vector<Param> params;  // per layer: weight, then bias (n = 0 when absent)
  const bool momentum = opt == kSgd && s[kMomentum] > 0;
  for (uint32_t l = 0; l < L; l++) {
    const uint32_t* f = fields + l * kLayerFields;
    for (int which = 0; which < 2; which++) {
      const uint64_t n = which == 0 ? (uint64_t)dims[l] * dims[l + 1] : dims[l + 1];
      const uint32_t po = f[which == 0 ? kW : kB], ko = f[which == 0 ? kWMask : kBMask];
      const uint32_t s0 = f[which == 0 ? kWSlot0 : kBSlot0], s1 = f[which == 0 ? kWSlot1 : kBSlot1];
      if (which == 1 && po == kNone) {
        params.push_back({nullptr, nullptr, nullptr, nullptr, 0});
        continue;
      }
      Param q{heap.at<float>(po, n), ko == kNone ? nullptr : heap.at<float>(ko, n), heap.at<float>(s0, n), heap.at<float>(s1, n), n};
      const bool slotsOk = opt == kAdam ? q.slot0 && q.slot1 : (!momentum || q.slot0);
      if (!q.p || (ko != kNone && !q.mask) || !slotsOk) return Fail(env, "lth_sgemm.mlpStep: a parameter, mask or optimizer slot lies outside the heap");
      if (opt == kSgd && !momentum) q.slot0 = nullptr;
      params.push_back(q);
    }
  }

  // Forward: acts[l] is layer l's input (acts[0] = x), acts[L] the logits. The scratch buffers
  // persist across calls (only the JS thread calls this): fresh megabytes every step cost page
  // faults and zeroing.
  static std::vector<std::vector<float>> acts, grads;
  static std::vector<float> dz, up, next;
  acts.resize(L + 1);
  for (uint32_t l = 1; l <= L; l++) acts[l].resize((size_t)B * dims[l]);
  {
    std::vector<const float*> w(L), b(L);
    std::vector<float*> outs(L);
    std::vector<bool> relu(L);
    for (uint32_t l = 0; l < L; l++) {
      w[l] = params[2 * l].p;
      b[l] = params[2 * l + 1].p;
      relu[l] = fields[l * kLayerFields + kRelu] != 0;
      outs[l] = acts[l + 1].data();
    }
    forward(B, L, dims, x, w.data(), b.data(), relu, outs.data());
  }

  // Loss and dz: logSoftmax = (z - max) - log(sum exp(z - max)); mean of -lsm[label];
  // its gradient as tfjs composes it: dlsm = onehot * (-1/B), dz = dlsm - exp(lsm) * sum(dlsm).
  dz.resize((size_t)B * C);
  const float g = -1.0f / static_cast<float>(B);
  float lossSum = 0;
  const float* z = acts[L].data();
  for (uint32_t r = 0; r < B; r++) {
    const float* zr = z + (size_t)r * C;
    float mx = zr[0];
    for (uint32_t j = 1; j < C; j++) mx = zr[j] > mx ? zr[j] : mx;
    float sum = 0;
    for (uint32_t j = 0; j < C; j++) sum += std::exp(zr[j] - mx);
    const float logSum = std::log(sum);
    for (uint32_t j = 0; j < C; j++) {
      const float lsm = (zr[j] - mx) - logSum;
      const bool hit = (int32_t)j == labels[r];
      if (hit) lossSum += lsm;
      dz[(size_t)r * C + j] = (hit ? g : -0.0f) - std::exp(lsm) * g;
    }
  }

  // Backward into separate gradient buffers: the weights change only after all of it.
  grads.resize(params.size());
  up.swap(dz);
  for (uint32_t l = L; l-- > 0;) {
    const uint32_t in = dims[l], n = dims[l + 1];
    const float* h = l == 0 ? x : acts[l].data();
    std::vector<float>& gw = grads[2 * l];
    gw.resize((size_t)in * n);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)in, (int)n, (int)B, 1.0f, h, (int)in, up.data(), (int)n, 0.0f, gw.data(), (int)n);
    if (params[2 * l + 1].p) {
      std::vector<float>& gb = grads[2 * l + 1];
      gb.assign(n, 0.0f);
      for (uint32_t r = 0; r < B; r++)
        for (uint32_t j = 0; j < n; j++) gb[j] += up[(size_t)r * n + j];
    }
    if (l == 0) break;  // the data needs no gradient
    next.resize((size_t)B * in);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)B, (int)in, (int)n, 1.0f, up.data(), (int)n, params[2 * l].p, (int)n, 0.0f, next.data(), (int)in);
    if (fields[(l - 1) * kLayerFields + kRelu] != 0) {
      const float* a = acts[l].data();  // ReLU's output: > 0 exactly where its input was
      for (size_t i = 0; i < next.size(); i++) next[i] = a[i] > 0 ? next[i] : 0.0f;
    }
    std::swap(up, next);
  }

  for (size_t i = 0; i < params.size(); i++) {
    const Param& q = params[i];
    if (!q.p) continue;
    if (opt == kAdam) adam(q.p, q.slot0, q.slot1, grads[i].data(), q.mask, q.n, s);
    else sgd(q.p, q.slot0, grads[i].data(), q.mask, q.n, s);
  }
  napi_value result;
  napi_create_double(env, -static_cast<double>(lossSum / static_cast<float>(B)), &result);
  return result;
}

// mlpForward(heap: ArrayBuffer, desc: Uint32Array): the logits of a batch, written at desc's
// output offset. desc = [batch, layers, x, out, dims[layers + 1]..., per layer: W, b, relu].
napi_value MlpForward(napi_env env, napi_callback_info info) {
  napi_value args[2];
  Heap heap;
  if (!lth::heapCall(env, info, 2, args, heap, "lth_sgemm.mlpForward", "(heap, descriptor)")) return nullptr;
  const uint32_t* d;
  size_t descLen;
  if (!lth::typedArg(env, args[1], napi_uint32_array, &d, &descLen)) return Fail(env, "lth_sgemm.mlpForward: the descriptor must be a Uint32Array");
  if (descLen < 4) return Fail(env, "lth_sgemm.mlpForward: descriptor too short");
  const uint32_t B = d[0], L = d[1];
  if (B == 0 || L == 0 || L > 64 || descLen != 4 + (L + 1) + 3 * L) return Fail(env, "lth_sgemm.mlpForward: descriptor size does not match its layers");
  const uint32_t* dims = d + 4;
  const uint32_t* fields = dims + L + 1;
  for (uint32_t i = 0; i <= L; i++)
    if (dims[i] == 0 || dims[i] > (1u << 24)) return Fail(env, "lth_sgemm.mlpForward: layer widths must be in 1..2^24");
  const float* x = heap.at<float>(d[2], (uint64_t)B * dims[0]);
  float* out = heap.at<float>(d[3], (uint64_t)B * dims[L]);
  if (!x || !out) return Fail(env, "lth_sgemm.mlpForward: the batch or the output lies outside the heap");
  std::vector<const float*> w(L), b(L);
  std::vector<bool> relu(L);
  static std::vector<std::vector<float>> acts;
  acts.resize(L);
  std::vector<float*> outs(L);
  for (uint32_t l = 0; l < L; l++) {
    const uint32_t* f = fields + 3 * l;
    w[l] = heap.at<float>(f[0], (uint64_t)dims[l] * dims[l + 1]);
    b[l] = f[1] == kNone ? nullptr : heap.at<float>(f[1], dims[l + 1]);
    if (!w[l] || (f[1] != kNone && !b[l])) return Fail(env, "lth_sgemm.mlpForward: a weight lies outside the heap");
    relu[l] = f[2] != 0;
    if (l + 1 < L) {
      acts[l].resize((size_t)B * dims[l + 1]);
      outs[l] = acts[l].data();
    } else {
      outs[l] = out;
    }
  }
  forward(B, L, dims, x, w.data(), b.data(), relu, outs.data());
  return nullptr;
}
