// The shared pieces of the native training steps (chain.h).
#include "chain.h"
#include <cblas.h>
#include <cmath>
#include <string>
#include <utility>
#include "pool.h"

namespace lth {
namespace {

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

// How many column parts `g` is computed in (1 or 2); the columns of part `i` of `parts`.
unsigned partsOf(const Gemm& g) { return 2.0 * g.m * g.n * g.k >= kSplitFlops && g.n >= 64 ? 2 : 1; }
void columns(const Gemm& g, unsigned i, unsigned parts, uint32_t* c0, uint32_t* c1) {
  const uint32_t half = (g.n / 2 + 15) / 16 * 16;
  *c0 = parts == 1 || i == 0 ? 0 : half;
  *c1 = parts == 1 || i == 1 ? g.n : half;
}

}  // namespace

bool readHeapCall(napi_env env, napi_callback_info info, const char* who, size_t header, HeapCall* c, bool scalars) {
  napi_value args[4];
  if (!heapThreadsCall(env, info, scalars ? 4 : 3, args, c->heap, &c->threads, who, scalars ? "(heap, descriptor, scalars, threads)" : "(heap, descriptor, threads)"))
    return false;
  const std::string w(who);
  if (!typedArg(env, args[1], napi_uint32_array, &c->desc, &c->descLen)) return Fail(env, (w + ": the descriptor must be a Uint32Array").c_str()), false;
  c->scalars = nullptr, c->scalarCount = 0;
  if (scalars && !typedArg(env, args[2], napi_float64_array, &c->scalars, &c->scalarCount))
    return Fail(env, (w + ": the scalars must be a Float64Array").c_str()), false;
  if (c->descLen < header) return Fail(env, (w + ": descriptor too short").c_str()), false;
  return true;
}

bool readScalars(napi_env env, const HeapCall& c, unsigned opt, const char* who, float* s) {
  if (c.scalarCount != (opt == kAdam ? (size_t)kAdamScalars : (size_t)kSgdScalars))
    return Fail(env, (std::string(who) + ": wrong number of scalars for the optimizer").c_str()), false;
  for (size_t i = 0; i < c.scalarCount; i++) s[i] = static_cast<float>(c.scalars[i]);
  return true;
}

bool resolveParam(const Heap& heap, const uint32_t* f, uint64_t n, unsigned opt, bool momentum, bool optional, Param* q) {
  if (optional && f[0] == kNone) {
    *q = {nullptr, nullptr, nullptr, nullptr, 0};
    return true;
  }
  *q = {heap.at<float>(f[0], n), f[1] == kNone ? nullptr : heap.at<float>(f[1], n), heap.at<float>(f[2], n), heap.at<float>(f[3], n), n};
  const bool slotsOk = opt == kAdam ? q->slot0 && q->slot1 : (!momentum || q->slot0);
  if (!q->p || (f[1] != kNone && !q->mask) || !slotsOk) return false;
  if (opt == kSgd && !momentum) q->slot0 = nullptr;
  return true;
}

bool resolveDense(const Heap& heap, uint32_t L, const uint32_t* dims, const uint32_t* fields, unsigned opt, bool momentum, std::vector<Param>& params) {
  for (uint32_t l = 0; l < L; l++) {
    const uint32_t* f = fields + l * kDenseFields;
    Param w, b;
    if (!resolveParam(heap, f + kW, (uint64_t)dims[l] * dims[l + 1], opt, momentum, false, &w) || !resolveParam(heap, f + kB, dims[l + 1], opt, momentum, true, &b))
      return false;
    params.push_back(w);
    params.push_back(b);
  }
  return true;
}

bool resolveForwardDense(const Heap& heap, uint32_t L, const uint32_t* dims, const uint32_t* fields, std::vector<const float*>& w, std::vector<const float*>& b,
                         std::vector<bool>& relu) {
  w.resize(L), b.resize(L), relu.resize(L);
  for (uint32_t l = 0; l < L; l++) {
    const uint32_t* f = fields + 3 * l;
    w[l] = heap.at<float>(f[0], (uint64_t)dims[l] * dims[l + 1]);
    b[l] = f[1] == kNone ? nullptr : heap.at<float>(f[1], dims[l + 1]);
    if (!w[l] || (f[1] != kNone && !b[l])) return false;
    relu[l] = f[2] != 0;
  }
  return true;
}

void gemmColumns(const Gemm& g, uint32_t c0, uint32_t c1) {
  const float* b = g.tb ? g.b + (size_t)c0 * g.ldb : g.b + c0;
  cblas_sgemm(CblasRowMajor, g.ta ? CblasTrans : CblasNoTrans, g.tb ? CblasTrans : CblasNoTrans, (int)g.m, (int)(c1 - c0), (int)g.k, 1.0f, g.a, (int)g.lda, b,
              (int)g.ldb, 0.0f, g.c + c0, (int)g.n);
}

void Tasks::run(unsigned threads) {
  lth::parallelFor(threads, (unsigned)list.size(), [this](unsigned i) { list[i](); });
  list.clear();
}

void Tasks::gemm(const Gemm& g, std::function<void(uint32_t, uint32_t)> then) {
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

void denseForward(uint32_t B, uint32_t L, const uint32_t* dims, const float* x, const float* const* w, const float* const* b, const std::vector<bool>& relu,
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

float softmaxLoss(uint32_t B, uint32_t C, const float* z, const int32_t* labels, float* dz) {
  // logSoftmax = (z - max) - log(sum exp(z - max)); mean of -lsm[label]; its gradient as tfjs
  // composes it: dlsm = onehot * (-1/B), dz = dlsm - exp(lsm) * sum(dlsm).
  const float g = -1.0f / static_cast<float>(B);
  float lossSum = 0;
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
  return lossSum;
}

void denseBackward(uint32_t B, uint32_t L, const uint32_t* dims, const float* x, const std::vector<std::vector<float>>& acts, const std::vector<bool>& relu,
                   const Param* params, std::vector<float>& up, std::vector<float>* grads, float* dx0, unsigned threads) {
  // Into separate gradient buffers: the weights change only after all of it. Per layer, the
  // weight gradient, the bias gradient and the input gradient are independent tasks.
  static std::vector<float> next;
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
    if (l > 0 || dx0) {
      if (l > 0) next.resize((size_t)B * in);
      const bool r = l > 0 && relu[l - 1];
      const float* a = l > 0 ? acts[l].data() : nullptr;  // ReLU's output: > 0 exactly where its input was
      float* dx = l > 0 ? next.data() : dx0;
      tasks.gemm({false, true, B, in, n, u, n, params[2 * l].p, n, dx}, [=](uint32_t c0, uint32_t c1) {
        if (!r) return;
        for (uint32_t row = 0; row < B; row++)
          for (uint32_t j = c0; j < c1; j++) dx[(size_t)row * in + j] = a[(size_t)row * in + j] > 0 ? dx[(size_t)row * in + j] : 0.0f;
      });
    }
    tasks.run(threads);
    if (l > 0) std::swap(up, next);
  }
}

float denseChainGradients(uint32_t B, uint32_t L, const uint32_t* dims, const uint32_t* fields, const float* x, const int32_t* labels, const Param* params,
                          std::vector<float>* grads, float* dx, unsigned threads) {
  // acts[l] is layer l's input for l >= 1, acts[L] the logits. Fresh megabytes every step cost
  // page faults and zeroing, hence static (only the JS thread calls the addon's steps).
  static std::vector<std::vector<float>> acts;
  static std::vector<float> dz;
  acts.resize(L + 1);
  for (uint32_t l = 1; l <= L; l++) acts[l].resize((size_t)B * dims[l]);
  std::vector<bool> relu(L);
  std::vector<const float*> w(L), b(L);
  std::vector<float*> outs(L);
  for (uint32_t l = 0; l < L; l++) {
    w[l] = params[2 * l].p;
    b[l] = params[2 * l + 1].p;
    relu[l] = fields[l * kDenseFields + kRelu] != 0;
    outs[l] = acts[l + 1].data();
  }
  denseForward(B, L, dims, x, w.data(), b.data(), relu, outs.data(), true, threads);
  dz.resize((size_t)B * dims[L]);
  const float lossSum = softmaxLoss(B, dims[L], acts[L].data(), labels, dz.data());
  denseBackward(B, L, dims, x, acts, relu, params, dz, grads, dx, threads);
  return lossSum;
}

void update(const std::vector<Param>& params, const std::vector<std::vector<float>>& grads, unsigned opt, const float* s, unsigned threads) {
  // Elementwise, in chunks: any chunking gives the same values.
  constexpr uint64_t kChunk = 1 << 16;
  Tasks tasks;
  for (size_t i = 0; i < params.size(); i++) {
    const Param& q = params[i];
    if (!q.p) continue;
    const float* g = grads[i].data();
    for (uint64_t o = 0; o < q.n; o += kChunk) {
      const uint64_t len = q.n - o < kChunk ? q.n - o : kChunk;
      tasks.add([&q, g, o, len, opt, s] {
        const float* k = q.mask ? q.mask + o : nullptr;
        if (opt == kAdam) adam(q.p + o, q.slot0 + o, q.slot1 + o, g + o, k, len, s);
        else sgd(q.p + o, q.slot0 ? q.slot0 + o : nullptr, g + o, k, len, s);
      });
    }
  }
  tasks.run(threads);
}

}  // namespace lth
