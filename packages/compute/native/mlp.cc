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
#include <functional>
#include <utility>
#include <vector>
#include "napi_args.h"
#include "pool.h"

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

// Products of at least this many flops are split into two column halves; smaller ones are not
// (measured on LeNet's 60x300x100 products: 1.2-1.3x slower split on one thread, while the
// 60x784x300 ones cost the same split or whole). The split depends on the shapes alone, never on
// the thread count: OpenBLAS rounds a split product differently from the whole one, so this is
// what keeps a result the same whatever the budget.
constexpr double kSplitFlops = 8e6;

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

// How many column parts `g` is computed in (1 or 2); the columns of part `i` of `parts`.
unsigned partsOf(const Gemm& g) { return 2.0 * g.m * g.n * g.k >= kSplitFlops && g.n >= 64 ? 2 : 1; }
void columns(const Gemm& g, unsigned i, unsigned parts, uint32_t* c0, uint32_t* c1) {
  const uint32_t half = (g.n / 2 + 15) / 16 * 16;
  *c0 = parts == 1 || i == 0 ? 0 : half;
  *c1 = parts == 1 || i == 1 ? g.n : half;
}
void gemmColumns(const Gemm& g, uint32_t c0, uint32_t c1) {
  const float* b = g.tb ? g.b + (size_t)c0 * g.ldb : g.b + c0;
  cblas_sgemm(CblasRowMajor, g.ta ? CblasTrans : CblasNoTrans, g.tb ? CblasTrans : CblasNoTrans, (int)g.m, (int)(c1 - c0), (int)g.k, 1.0f, g.a, (int)g.lda, b,
              (int)g.ldb, 0.0f, g.c + c0, (int)g.n);
}

// A list of independent tasks run with lth::parallelFor.
struct Tasks {
  std::vector<std::function<void()>> list;
  void add(std::function<void()> f) { list.push_back(std::move(f)); }
  void run(unsigned threads) {
    lth::parallelFor(threads, (unsigned)list.size(), [this](unsigned i) { list[i](); });
    list.clear();
  }
  // The product in its column parts, each followed by `then(c0, c1)` on its own columns.
  void gemm(const Gemm& g, std::function<void(uint32_t, uint32_t)> then = nullptr) {
    const unsigned parts = partsOf(g);
    for (unsigned i = 0; i < parts; i++) {
      uint32_t c0, c1;
      columns(g, i, parts, &c0, &c1);
      add([g, c0, c1, then] {
        gemmColumns(g, c0, c1);
        if (then) then(c0, c1);
      });
    }
  }
};

// Layer by layer: outs[l] = in·W[l] (+ b[l]), ReLU where flagged; in is x, then outs[l - 1].
// `split`: large products in column parts (partsOf), run on up to `threads` threads.
void forward(uint32_t B, uint32_t L, const uint32_t* dims, const float* x, const float* const* w, const float* const* b, const std::vector<bool>& relu,
             float* const* outs, bool split, unsigned threads) {
  Tasks tasks;
  for (uint32_t l = 0; l < L; l++) {
    const float* in = l == 0 ? x : outs[l - 1];
    float* out = outs[l];
    const uint32_t n = dims[l + 1];
    const float* bias = b[l];
    const bool r = relu[l];
    // Bias and ReLU on each part's own columns: elementwise, so the same values however split.
    auto finish = [=](uint32_t c0, uint32_t c1) {
      for (uint32_t row = 0; row < B; row++) {
        float* o = out + (size_t)row * n;
        if (bias)
          for (uint32_t j = c0; j < c1; j++) o[j] = o[j] + bias[j];
        if (r)
          for (uint32_t j = c0; j < c1; j++) o[j] = o[j] > 0 ? o[j] : 0.0f;  // tfjs Relu: max(z, 0)
      }
    };
    const Gemm g{false, false, B, n, dims[l], in, dims[l], w[l], n, out};
    if (split) {
      tasks.gemm(g, finish);
      tasks.run(threads);
    } else {
      gemmColumns(g, 0, n);
      finish(0, n);
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

// mlpStep(heap: ArrayBuffer, desc: Uint32Array, scalars: Float64Array, threads) -> mean loss of the batch.
napi_value MlpStep(napi_env env, napi_callback_info info) {
  napi_value args[4];
  Heap heap;
  unsigned threads;
  if (!lth::heapThreadsCall(env, info, 4, args, heap, &threads, "lth_sgemm.mlpStep", "(heap, descriptor, scalars, threads)")) return nullptr;
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
    forward(B, L, dims, x, w.data(), b.data(), relu, outs.data(), true, threads);
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

  // Backward into separate gradient buffers: the weights change only after all of it. Per layer,
  // the weight gradient, the bias gradient and the input gradient are independent tasks.
  grads.resize(params.size());
  up.swap(dz);
  Tasks tasks;
  for (uint32_t l = L; l-- > 0;) {
    const uint32_t in = dims[l], n = dims[l + 1];
    const float* h = l == 0 ? x : acts[l].data();
    std::vector<float>& gw = grads[2 * l];
    gw.resize((size_t)in * n);
    const float* u = up.data();
    tasks.gemm({true, false, in, n, B, h, in, u, n, gw.data()});
    if (params[2 * l + 1].p) {
      std::vector<float>& gb = grads[2 * l + 1];
      gb.resize(n);
      float* sum = gb.data();
      tasks.add([=] {
        for (uint32_t j = 0; j < n; j++) sum[j] = 0.0f;
        for (uint32_t r = 0; r < B; r++)
          for (uint32_t j = 0; j < n; j++) sum[j] += u[(size_t)r * n + j];
      });
    }
    if (l > 0) {  // the data needs no gradient
      next.resize((size_t)B * in);
      const bool relu = fields[(l - 1) * kLayerFields + kRelu] != 0;
      const float* a = acts[l].data();  // ReLU's output: > 0 exactly where its input was
      float* dx = next.data();
      tasks.gemm({false, true, B, in, n, u, n, params[2 * l].p, n, dx}, [=](uint32_t c0, uint32_t c1) {
        if (!relu) return;
        for (uint32_t r = 0; r < B; r++)
          for (uint32_t j = c0; j < c1; j++) dx[(size_t)r * in + j] = a[(size_t)r * in + j] > 0 ? dx[(size_t)r * in + j] : 0.0f;
      });
    }
    tasks.run(threads);
    if (l > 0) std::swap(up, next);
  }

  // The update, elementwise, in chunks: any chunking gives the same values.
  constexpr uint64_t kChunk = 1 << 16;
  for (size_t i = 0; i < params.size(); i++) {
    const Param& q = params[i];
    if (!q.p) continue;
    const float* g = grads[i].data();
    for (uint64_t o = 0; o < q.n; o += kChunk) {
      const uint64_t len = q.n - o < kChunk ? q.n - o : kChunk;
      tasks.add([&q, g, o, len, opt, &s] {
        const float* k = q.mask ? q.mask + o : nullptr;
        if (opt == kAdam) adam(q.p + o, q.slot0 + o, q.slot1 + o, g + o, k, len, s);
        else sgd(q.p + o, q.slot0 ? q.slot0 + o : nullptr, g + o, k, len, s);
      });
    }
  }
  tasks.run(threads);
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
  napi_value args[3];
  Heap heap;
  unsigned threads;
  if (!lth::heapThreadsCall(env, info, 3, args, heap, &threads, "lth_sgemm.mlpForward", "(heap, descriptor, threads)")) return nullptr;
  const uint32_t* d;
  size_t descLen;
  if (!lth::typedArg(env, args[1], napi_uint32_array, &d, &descLen)) return Fail(env, "lth_sgemm.mlpForward: the descriptor must be a Uint32Array");
  if (descLen < 4) return Fail(env, "lth_sgemm.mlpForward: descriptor too short");
  const uint32_t B = d[0], L = d[1];
  if (B == 0 || L == 0 || L > 64 || descLen != 4 + (L + 1) + 3 * L) return Fail(env, "lth_sgemm.mlpForward: descriptor size does not match its layers");
  const uint32_t* dims = d + 4;
  const uint32_t* fields = dims + L + 1;
  if (!lth::widthsOk(dims, L)) return Fail(env, "lth_sgemm.mlpForward: layer widths must be in 1..2^24");
  const float* x = heap.at<float>(d[2], (uint64_t)B * dims[0]);
  float* out = heap.at<float>(d[3], (uint64_t)B * dims[L]);
  if (!x || !out) return Fail(env, "lth_sgemm.mlpForward: the batch or the output lies outside the heap");
  std::vector<const float*> w(L), b(L);
  std::vector<bool> relu(L);
  for (uint32_t l = 0; l < L; l++) {
    const uint32_t* f = fields + 3 * l;
    w[l] = heap.at<float>(f[0], (uint64_t)dims[l] * dims[l + 1]);
    b[l] = f[1] == kNone ? nullptr : heap.at<float>(f[1], dims[l + 1]);
    if (!w[l] || (f[1] != kNone && !b[l])) return Fail(env, "lth_sgemm.mlpForward: a weight lies outside the heap");
    relu[l] = f[2] != 0;
  }
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
    forward(p == 0 ? half : B - half, L, dims, x + (size_t)r0 * dims[0], w.data(), b.data(), relu, outs[p].data(), false, 1);
  });
  return nullptr;
}
