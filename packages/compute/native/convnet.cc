// One training step of a conv net in the shape of the paper's Conv-2/4/6: 3x3 'same'
// convolutions with bias, each followed by ReLU and optionally a 2x2 max-pool, then a dense
// chain (chain.h) with mean softmax cross-entropy, and the masked Adam or SGD update, in place
// on tfjs-backend-wasm's heap (src/wasm/convnet/native-convnet.ts). Why: with native products
// the tfjs step of Conv-2 still spent ~60% in its convolutions' wasm transforms, XNNPACK's first
// layer and ~20 other kernels (the compute README, "Conv-2 on native products").
//
// The first convolution (few input channels, no input gradient needed) is an im2col product;
// the others are Winograd F(4x4, 3x3) (winograd.h), whose 36 point products are independent
// tasks. Every split (row chunks, tile chunks, points, column halves) is fixed by the shapes
// alone, so the result is the same for any thread budget.
#include <node_api.h>
#include <cstdint>
#include <cstring>
#include <vector>
#include "chain.h"
#include "napi_args.h"
#include "scratch.h"
#include "winograd.h"

using lth::Fail;
using lth::Heap;
using lth::kNone;
using namespace lth;

namespace {

// The header, then kConvFields per convolution, then the dense chain as in mlp.cc: dims[dense +
// 1], then kDenseFields per dense layer.
enum Header { kBatch, kHeight, kWidth, kChannels, kConvs, kDense, kX, kLabels, kOptimizer, kHeader };
enum ConvField { kFilters, kPool, kCW, kCWMask, kCWSlot0, kCWSlot1, kCB, kCBMask, kCBSlot0, kCBSlot1, kConvFields };
enum DenseField { kW, kWMask, kWSlot0, kWSlot1, kB, kBMask, kBSlot0, kBSlot1, kRelu, kDenseFields };

constexpr uint32_t kRowChunk = 1024;  // im2col rows per task
constexpr uint32_t kTileChunk = 64;   // Winograd tiles per task

struct Conv {
  uint32_t H, W, ci, co;  // input (= output) size and channels
  bool pool;
  const float* in;        // the input: x or the previous layer's (pooled) output
  Scratch a;       // ReLU(conv(in) + b), [B, H, W, co]
  Scratch pooled;  // a max-pooled, [B, H/2, W/2, co]
  Scratch V;       // Winograd: the input's transform, kept for the filter gradient
  Scratch dz;      // the gradient of conv(in) + b
  Scratch gin;     // the gradient of in (not for the first layer)
};

// Tasks over [0, n) in chunks of `chunk`, each calling f(begin, end).
template <typename F>
void chunks(Tasks& tasks, uint32_t n, uint32_t chunk, F f) {
  for (uint32_t b = 0; b < n; b += chunk) {
    const uint32_t e = n - b < chunk ? n : b + chunk;
    tasks.add([=] { f(b, e); });
  }
}

// Rows [r0, r1) of the im2col matrix of x [B, H, W, C]: row (b, y, x), column (i, j, c) of the
// 3x3 neighbourhood, zero outside the image; the column order is HWIO's, so P · w is the conv.
void im2colRows(const float* x, uint32_t H, uint32_t W, uint32_t C, float* P, uint32_t r0, uint32_t r1) {
  const uint32_t K = 9 * C;
  for (uint32_t r = r0; r < r1; r++) {
    const uint32_t b = r / (H * W), y = r / W % H, xx = r % W;
    float* row = P + (size_t)r * K;
    for (int i = 0; i < 3; i++)
      for (int j = 0; j < 3; j++) {
        const int32_t yy = (int32_t)y + i - 1, xj = (int32_t)xx + j - 1;
        float* dst = row + (i * 3 + j) * C;
        if (yy < 0 || xj < 0 || yy >= (int32_t)H || xj >= (int32_t)W) std::memset(dst, 0, (size_t)C * 4);
        else std::memcpy(dst, x + (((size_t)b * H + yy) * W + xj) * C, (size_t)C * 4);
      }
  }
}

void biasRelu(float* y, uint32_t rows, uint32_t C, const float* bias) {
  for (uint32_t r = 0; r < rows; r++) {
    float* o = y + (size_t)r * C;
    if (bias)
      for (uint32_t c = 0; c < C; c++) o[c] = o[c] + bias[c];
    for (uint32_t c = 0; c < C; c++) o[c] = o[c] > 0 ? o[c] : 0.0f;
  }
}

// Images [b0, b1) of the 2x2 stride-2 max-pool of a [B, H, W, C] into p [B, H/2, W/2, C].
void maxPool(const float* a, uint32_t H, uint32_t W, uint32_t C, float* p, uint32_t b0, uint32_t b1) {
  const uint32_t ph = H / 2, pw = W / 2;
  for (uint32_t b = b0; b < b1; b++)
    for (uint32_t y = 0; y < ph; y++)
      for (uint32_t x = 0; x < pw; x++) {
        const float* q = a + (((size_t)b * H + 2 * y) * W + 2 * x) * C;
        const float* q2 = q + (size_t)W * C;
        float* o = p + (((size_t)b * ph + y) * pw + x) * C;
        for (uint32_t c = 0; c < C; c++) {
          float m = q[c];
          m = q[C + c] > m ? q[C + c] : m;
          m = q2[c] > m ? q2[c] : m;
          m = q2[C + c] > m ? q2[C + c] : m;
          o[c] = m;
        }
      }
}

// Images [b0, b1) of dz [B, H, W, C]: the gradient g of the pool's output (or of a itself when
// !pool) routed to the first maximum of each window, as tfjs' MaxPoolGrad does, times ReLU's
// derivative (a > 0). Branch-free selects: the signs of a are a coin toss, and a branch per
// element cost ~20 ms of a Conv-2 step in mispredictions.
__attribute__((target_clones("avx2", "default"))) void poolReluBackward(const float* __restrict a, const float* __restrict g, uint32_t H, uint32_t W, uint32_t C, bool pool,
                                                float* __restrict dz, uint32_t b0, uint32_t b1) {
  const size_t image = (size_t)H * W * C;
  if (!pool) {
    for (size_t i = b0 * image; i < b1 * image; i++) {
      const float gi = g[i];  // loaded unconditionally, so the select vectorizes
      dz[i] = a[i] > 0 ? gi : 0.0f;
    }
    return;
  }
  const uint32_t ph = H / 2, pw = W / 2;
  // Rows and columns no window covers (odd sizes) get no gradient.
  if (H % 2 || W % 2)
    for (uint32_t b = b0; b < b1; b++)
      for (uint32_t y = 0; y < H; y++)
        for (uint32_t x = 0; x < W; x++)
          if (y >= 2 * ph || x >= 2 * pw) std::memset(dz + (((size_t)b * H + y) * W + x) * C, 0, (size_t)C * 4);
  for (uint32_t b = b0; b < b1; b++)
    for (uint32_t y = 0; y < ph; y++)
      for (uint32_t x = 0; x < pw; x++) {
        const size_t at = (((size_t)b * H + 2 * y) * W + 2 * x) * C, below = (size_t)W * C;
        const float *q0 = a + at, *q1 = q0 + C, *q2 = q0 + below, *q3 = q2 + C;
        float *d0 = dz + at, *d1 = d0 + C, *d2 = d0 + below, *d3 = d2 + C;
        const float* gi = g + (((size_t)b * ph + y) * pw + x) * C;
        for (uint32_t c = 0; c < C; c++) {
          float m = q0[c];
          m = q1[c] > m ? q1[c] : m;
          m = q2[c] > m ? q2[c] : m;
          m = q3[c] > m ? q3[c] : m;
          const float gc = gi[c];
          const float v = m > 0 ? gc : 0.0f;
          const bool t0 = q0[c] == m, t1 = !t0 && q1[c] == m, t2 = !t0 && !t1 && q2[c] == m, t3 = !t0 && !t1 && !t2;
          d0[c] = t0 ? v : 0.0f;
          d1[c] = t1 ? v : 0.0f;
          d2[c] = t2 ? v : 0.0f;
          d3[c] = t3 ? v : 0.0f;
        }
      }
}

// The bias gradient: the column sums of dz [rows, C], in row order.
void columnSums(const float* dz, uint32_t rows, uint32_t C, float* sum) {
  for (uint32_t c = 0; c < C; c++) sum[c] = 0.0f;
  for (uint32_t r = 0; r < rows; r++)
    for (uint32_t c = 0; c < C; c++) sum[c] += dz[(size_t)r * C + c];
}

}  // namespace

namespace {

// A trained tensor from its four descriptor fields (value, mask, slot 0, slot 1); false when
// any of them lies outside the heap. A bias may be absent (value kNone): p = null, n = 0.
bool resolve(const Heap& heap, const uint32_t* f, uint64_t n, unsigned opt, bool momentum, bool optional, Param* q) {
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

}  // namespace

// convStep(heap: ArrayBuffer, desc: Uint32Array, scalars: Float64Array, threads) -> mean loss of
// the batch. desc = [batch, height, width, channels, convs, dense, x, labels, optimizer], per
// conv [filters, pool, W, W mask, W slot 0, W slot 1, b, b mask, b slot 0, b slot 1], then the
// dense chain's dims and per-layer fields as mlpStep's. Scalars as mlpStep's.
napi_value ConvStep(napi_env env, napi_callback_info info) {
  napi_value args[4];
  Heap heap;
  unsigned threads;
  if (!lth::heapThreadsCall(env, info, 4, args, heap, &threads, "lth_sgemm.convStep", "(heap, descriptor, scalars, threads)")) return nullptr;
  const uint32_t* d;
  const double* scalarData;
  size_t descLen, scalarLen;
  if (!lth::typedArg(env, args[1], napi_uint32_array, &d, &descLen)) return Fail(env, "lth_sgemm.convStep: the descriptor must be a Uint32Array");
  if (!lth::typedArg(env, args[2], napi_float64_array, &scalarData, &scalarLen)) return Fail(env, "lth_sgemm.convStep: the scalars must be a Float64Array");
  if (descLen < kHeader) return Fail(env, "lth_sgemm.convStep: descriptor too short");
  const uint32_t B = d[kBatch], H = d[kHeight], W = d[kWidth], C0 = d[kChannels], NC = d[kConvs], L = d[kDense], opt = d[kOptimizer];
  if (B == 0 || B > 65536 || H == 0 || H > 4096 || W == 0 || W > 4096 || C0 == 0 || C0 > 4096 || NC == 0 || NC > 32 || L == 0 || L > 64 || opt > kSgd ||
      descLen != kHeader + NC * kConvFields + (L + 1) + L * kDenseFields)
    return Fail(env, "lth_sgemm.convStep: descriptor size does not match its batch, layers and optimizer");
  if (scalarLen != (opt == kAdam ? (size_t)kAdamScalars : (size_t)kSgdScalars)) return Fail(env, "lth_sgemm.convStep: wrong number of scalars for the optimizer");
  float s[kAdamScalars];
  for (size_t i = 0; i < scalarLen; i++) s[i] = static_cast<float>(scalarData[i]);
  const bool momentum = opt == kSgd && s[kMomentum] > 0;
  const uint32_t* convFields = d + kHeader;
  const uint32_t* dims = convFields + NC * kConvFields;
  const uint32_t* denseFields = dims + L + 1;

  // Shapes first: every layer's sizes, and that the dense chain takes the last one flattened.
  static std::vector<Conv> convs;
  convs.resize(NC);
  std::vector<Param> params;  // per conv, then per dense layer: weight, then bias
  uint32_t h = H, w = W, c = C0;
  for (uint32_t k = 0; k < NC; k++) {
    const uint32_t* f = convFields + k * kConvFields;
    const uint32_t co = f[kFilters];
    const bool pool = f[kPool] != 0;
    // Every product's sizes must fit an int: rows of im2col (B h w) times its width (9 c), tiles times channels.
    const uint64_t rows = (uint64_t)B * h * w, widest = 9ull * (c > co ? c : co);
    if (co == 0 || co > 4096 || rows * widest >= (1ull << 31) || f[kPool] > 1 || (pool && (h < 2 || w < 2)))
      return Fail(env, "lth_sgemm.convStep: a convolution's filters, pool or size is out of range");
    convs[k].H = h, convs[k].W = w, convs[k].ci = c, convs[k].co = co, convs[k].pool = pool;
    Param q;
    if (!resolve(heap, f + kCW, 9ull * c * co, opt, momentum, false, &q)) return Fail(env, "lth_sgemm.convStep: a parameter, mask or optimizer slot lies outside the heap");
    params.push_back(q);
    if (!resolve(heap, f + kCB, co, opt, momentum, true, &q)) return Fail(env, "lth_sgemm.convStep: a parameter, mask or optimizer slot lies outside the heap");
    params.push_back(q);
    if (pool) h /= 2, w /= 2;
    c = co;
  }
  if (!lth::widthsOk(dims, L)) return Fail(env, "lth_sgemm.convStep: layer widths must be in 1..2^24");
  if ((uint64_t)h * w * c != dims[0]) return Fail(env, "lth_sgemm.convStep: the first dense layer's inputs are not the last convolution's outputs");
  for (uint32_t l = 0; l < L; l++) {
    const uint32_t* f = denseFields + l * kDenseFields;
    Param q;
    if (!resolve(heap, f + kW, (uint64_t)dims[l] * dims[l + 1], opt, momentum, false, &q)) return Fail(env, "lth_sgemm.convStep: a parameter, mask or optimizer slot lies outside the heap");
    params.push_back(q);
    if (!resolve(heap, f + kB, dims[l + 1], opt, momentum, true, &q)) return Fail(env, "lth_sgemm.convStep: a parameter, mask or optimizer slot lies outside the heap");
    params.push_back(q);
  }
  const float* x = heap.at<float>(d[kX], (uint64_t)B * H * W * C0);
  const int32_t* labels = heap.at<int32_t>(d[kLabels], B);
  if (!x || !labels) return Fail(env, "lth_sgemm.convStep: the batch lies outside the heap");
  const uint32_t C = dims[L];
  for (uint32_t r = 0; r < B; r++)
    if (labels[r] < 0 || (uint32_t)labels[r] >= C) return Fail(env, "lth_sgemm.convStep: a label is not a class index");

  // Every buffer before anything is written: running out of memory leaves the weights as they were.
  static Scratch patches, U, M, Z, V2, dU, M2, gFlat;
  bool memory = gFlat.get((size_t)B * dims[0]) != nullptr;
  for (uint32_t k = 0; k < NC; k++) {
    Conv& cv = convs[k];
    const uint64_t rows = (uint64_t)B * cv.H * cv.W, T = wino::tilesOf(B, cv.H, cv.W).T, ci = cv.ci, co = cv.co;
    memory = memory && cv.a.get(rows * co) && cv.dz.get(rows * co) && (!cv.pool || cv.pooled.get(rows / 4 * co));
    if (k == 0) {
      memory = memory && patches.get(rows * 9 * ci);
      continue;
    }
    memory = memory && cv.V.get(wino::kPoints * T * ci) && cv.gin.get(rows * ci) && U.get(wino::kPoints * ci * co) && M.get(wino::kPoints * T * co) &&
             Z.get(wino::kPoints * T * co) && V2.get(wino::kPoints * T * co) && dU.get(wino::kPoints * ci * co) && M2.get(wino::kPoints * T * ci);
  }
  if (!memory) return Fail(env, "lth_sgemm.convStep: out of memory for the step's buffers");

  // Forward. Scratch persists across calls (only the JS thread calls this).
  static std::vector<float> lossGrad;
  static std::vector<std::vector<float>> acts, grads;
  Tasks tasks;
  for (uint32_t k = 0; k < NC; k++) {
    Conv& cv = convs[k];
    cv.in = k == 0 ? x : (convs[k - 1].pool ? convs[k - 1].pooled.data() : convs[k - 1].a.data());
    const uint32_t rows = B * cv.H * cv.W;
    cv.a.get((size_t)rows * cv.co);
    const float* wk = params[2 * k].p;
    const float* bk = params[2 * k + 1].p;
    float* a = cv.a.data();
    if (k == 0) {
      const uint32_t K = 9 * cv.ci, co = cv.co, ci = cv.ci, Hh = cv.H, Ww = cv.W;
      float* P = patches.get((size_t)rows * K);
      const float* in = cv.in;
      chunks(tasks, rows, kRowChunk, [=](uint32_t r0, uint32_t r1) {
        im2colRows(in, Hh, Ww, ci, P, r0, r1);
        gemmColumns({false, false, r1 - r0, co, K, P + (size_t)r0 * K, K, wk, co, a + (size_t)r0 * co}, 0, co);
        biasRelu(a + (size_t)r0 * co, r1 - r0, co, bk);
      });
      tasks.run(threads);
    } else {
      const wino::Tiles t = wino::tilesOf(B, cv.H, cv.W);
      const uint32_t ci = cv.ci, co = cv.co;
      float* V = cv.V.get((size_t)wino::kPoints * t.T * ci);
      float* Up = U.get((size_t)wino::kPoints * ci * co);
      float* Mp = M.get((size_t)wino::kPoints * t.T * co);
      const float* in = cv.in;
      tasks.add([=] { wino::filterTransform(wk, ci, co, false, Up); });
      chunks(tasks, t.T, kTileChunk, [=](uint32_t t0, uint32_t t1) { wino::inputTransform(t, ci, in, V, t0, t1); });
      tasks.run(threads);
      for (uint32_t p = 0; p < wino::kPoints; p++)
        tasks.add([=] { gemmColumns({false, false, t.T, co, ci, V + (size_t)p * t.T * ci, ci, Up + (size_t)p * ci * co, co, Mp + (size_t)p * t.T * co}, 0, co); });
      tasks.run(threads);
      chunks(tasks, t.T, kTileChunk, [=](uint32_t t0, uint32_t t1) { wino::outputTransform(t, co, Mp, bk, true, a, t0, t1); });
      tasks.run(threads);
    }
    if (cv.pool) {
      float* p = cv.pooled.get((size_t)B * (cv.H / 2) * (cv.W / 2) * cv.co);
      const uint32_t Hh = cv.H, Ww = cv.W, co = cv.co;
      chunks(tasks, B, 1, [=](uint32_t b0, uint32_t b1) { maxPool(a, Hh, Ww, co, p, b0, b1); });
      tasks.run(threads);
    }
  }
  const Conv& last = convs[NC - 1];
  const float* flat = last.pool ? last.pooled.data() : last.a.data();

  // The dense chain: forward, loss, backward down to its input's gradient g.
  acts.resize(L + 1);
  for (uint32_t l = 1; l <= L; l++) acts[l].resize((size_t)B * dims[l]);
  std::vector<bool> relu(L);
  {
    std::vector<const float*> wd(L), bd(L);
    std::vector<float*> outs(L);
    for (uint32_t l = 0; l < L; l++) {
      wd[l] = params[2 * (NC + l)].p;
      bd[l] = params[2 * (NC + l) + 1].p;
      relu[l] = denseFields[l * kDenseFields + kRelu] != 0;
      outs[l] = acts[l + 1].data();
    }
    denseForward(B, L, dims, flat, wd.data(), bd.data(), relu, outs.data(), true, threads);
  }
 
  lossGrad.resize((size_t)B * C);
  const float lossSum = softmaxLoss(B, C, acts[L].data(), labels, lossGrad.data());
  grads.resize(params.size());
  const float* g = gFlat.get((size_t)B * dims[0]);
  denseBackward(B, L, dims, flat, acts, relu, params.data() + 2 * NC, lossGrad, grads.data() + 2 * NC, gFlat.data(), threads);

 
  // Back through the convolutions: g is the gradient of conv k's (pooled) output.
  for (uint32_t k = NC; k-- > 0;) {
    Conv& cv = convs[k];
    const uint32_t rows = B * cv.H * cv.W, ci = cv.ci, co = cv.co, Hh = cv.H, Ww = cv.W;
    float* dzp = cv.dz.get((size_t)rows * co);
    const float *a = cv.a.data(), *gp = g;
    const bool pool = cv.pool;
    chunks(tasks, B, 1, [=](uint32_t b0, uint32_t b1) { poolReluBackward(a, gp, Hh, Ww, co, pool, dzp, b0, b1); });
    tasks.run(threads);
    std::vector<float>& gw = grads[2 * k];
    gw.resize((size_t)9 * ci * co);
    float* gwp = gw.data();
    if (params[2 * k + 1].p) {
      grads[2 * k + 1].resize(co);
      float* gb = grads[2 * k + 1].data();
      tasks.add([=] { columnSums(dzp, rows, co, gb); });
    }
    if (k == 0) {
      const uint32_t K = 9 * ci;
      const float* P = patches.data();
      tasks.add([=] { gemmColumns({true, false, K, co, rows, P, K, dzp, co, gwp}, 0, co); });
      tasks.run(threads);
      break;
    }
    // The filter gradient (Z, then dU, then dw) and the input gradient (V2, then M2, then the
    // output transform), stage by stage together.
    const wino::Tiles t = wino::tilesOf(B, Hh, Ww);
    float* Zp = Z.get((size_t)wino::kPoints * t.T * co);
    float* V2p = V2.get((size_t)wino::kPoints * t.T * co);
    float* Up = U.get((size_t)wino::kPoints * co * ci);
    float* dUp = dU.get((size_t)wino::kPoints * ci * co);
    float* M2p = M2.get((size_t)wino::kPoints * t.T * ci);
    float* ginp = cv.gin.get((size_t)rows * ci);
    const float* V = cv.V.data();
    const float* wk = params[2 * k].p;
    tasks.add([=] { wino::filterTransform(wk, ci, co, true, Up); });
    chunks(tasks, t.T, kTileChunk, [=](uint32_t t0, uint32_t t1) {
      wino::gradTransform(t, co, dzp, Zp, t0, t1);
      wino::inputTransform(t, co, dzp, V2p, t0, t1);
    });
    tasks.run(threads);
    for (uint32_t p = 0; p < wino::kPoints; p++) {
      tasks.add([=] { gemmColumns({true, false, ci, co, t.T, V + (size_t)p * t.T * ci, ci, Zp + (size_t)p * t.T * co, co, dUp + (size_t)p * ci * co}, 0, co); });
      tasks.add([=] { gemmColumns({false, false, t.T, ci, co, V2p + (size_t)p * t.T * co, co, Up + (size_t)p * co * ci, ci, M2p + (size_t)p * t.T * ci}, 0, ci); });
    }
    tasks.run(threads);
    tasks.add([=] { wino::filterGradient(dUp, ci, co, gwp); });
    chunks(tasks, t.T, kTileChunk, [=](uint32_t t0, uint32_t t1) { wino::outputTransform(t, ci, M2p, nullptr, false, ginp, t0, t1); });
    tasks.run(threads);
    g = ginp;
  }

  update(params, grads, opt, s, threads);
 
  napi_value result;
  napi_create_double(env, -static_cast<double>(lossSum / static_cast<float>(B)), &result);
  return result;
}
