// convStep (convnet.h): one training step of a conv net in the shape of the paper's Conv-2/4/6,
// the convolutions (convnet.cc), then a dense chain (chain.h) with mean softmax cross-entropy,
// and the masked Adam or SGD update, in place on tfjs-backend-wasm's heap
// (src/wasm/convnet/native-convnet.ts). Why: with native products the tfjs step of Conv-2 still
// spent ~60% of its time in its convolutions' wasm transforms, XNNPACK's first layer and ~20
// other kernels (the compute README, "The native conv net").
#include <node_api.h>
#include <cstdint>
#include <vector>
#include "chain.h"
#include "convnet.h"
#include "napi_args.h"
#include "scratch.h"
#include "winograd.h"

using lth::Fail;
using lth::Heap;
using lth::kNone;
using lth::convnet::Conv;
using namespace lth;

namespace {

// The header, then kConvFields per convolution, then the dense chain as in mlp.cc: dims[dense +
// 1], then kDenseFields (chain.h) per dense layer.
enum Header { kBatch, kHeight, kWidth, kChannels, kConvs, kDense, kX, kLabels, kOptimizer, kHeader };
enum ConvField { kFilters, kPool, kCW, kCWMask, kCWSlot0, kCWSlot1, kCB, kCBMask, kCBSlot0, kCBSlot1, kConvFields };

// The first convolution's filter gradient is summed over this many rows (pixels) a task.
constexpr uint32_t kGradRows = 8192;

}  // namespace

// convStep(heap: ArrayBuffer, desc: Uint32Array, scalars: Float64Array, threads) -> mean loss of
// the batch. desc = [batch, height, width, channels, convs, dense, x, labels, optimizer], per
// conv [filters, pool, W, W mask, W slot 0, W slot 1, b, b mask, b slot 0, b slot 1], then the
// dense chain's dims and per-layer fields as mlpStep's. Scalars as mlpStep's.
napi_value ConvStep(napi_env env, napi_callback_info info) {
  HeapCall call;
  if (!readHeapCall(env, info, "lth_sgemm.convStep", kHeader, &call)) return nullptr;
  const Heap& heap = call.heap;
  const unsigned threads = call.threads;
  const uint32_t* d = call.desc;
  const uint32_t B = d[kBatch], H = d[kHeight], W = d[kWidth], C0 = d[kChannels], NC = d[kConvs], L = d[kDense], opt = d[kOptimizer];
  if (B == 0 || B > 65536 || H == 0 || H > 4096 || W == 0 || W > 4096 || C0 == 0 || C0 > 4096 || NC == 0 || NC > 32 || L == 0 || L > 64 || opt > kSgd ||
      call.descLen != kHeader + NC * kConvFields + (L + 1) + L * kDenseFields)
    return Fail(env, "lth_sgemm.convStep: descriptor size does not match its batch, layers and optimizer");
  float s[kAdamScalars];
  if (!readScalars(env, call, opt, "lth_sgemm.convStep", s)) return nullptr;
  const bool momentum = opt == kSgd && s[kMomentum] > 0;
  const uint32_t* convFields = d + kHeader;
  const uint32_t* dims = convFields + NC * kConvFields;
  const uint32_t* denseFields = dims + L + 1;

  // Shapes first: every layer's sizes, and that the dense chain takes the last one flattened.
  static std::vector<Conv> convs;
  uint64_t flatSize;
  if (!convnet::shapes(B, H, W, C0, NC, convFields, kConvFields, convs, &flatSize))
    return Fail(env, "lth_sgemm.convStep: a convolution's filters, pool or size is out of range");
  std::vector<Param> params;  // per conv, then per dense layer: weight, then bias
  for (uint32_t k = 0; k < NC; k++) {
    const uint32_t* f = convFields + k * kConvFields;
    Param w, b;
    if (!resolveParam(heap, f + kCW, 9ull * convs[k].ci * convs[k].co, opt, momentum, false, &w) || !resolveParam(heap, f + kCB, convs[k].co, opt, momentum, true, &b))
      return Fail(env, "lth_sgemm.convStep: a parameter, mask or optimizer slot lies outside the heap");
    params.push_back(w);
    params.push_back(b);
  }
  if (!lth::widthsOk(dims, L)) return Fail(env, "lth_sgemm.convStep: layer widths must be in 1..2^24");
  if (flatSize != dims[0]) return Fail(env, "lth_sgemm.convStep: the first dense layer's inputs are not the last convolution's outputs");
  if (!resolveDense(heap, L, dims, denseFields, opt, momentum, params))
    return Fail(env, "lth_sgemm.convStep: a parameter, mask or optimizer slot lies outside the heap");
  const float* x = heap.at<float>(d[kX], (uint64_t)B * H * W * C0);
  const int32_t* labels = heap.at<int32_t>(d[kLabels], B);
  if (!x || !labels) return Fail(env, "lth_sgemm.convStep: the batch lies outside the heap");
  const uint32_t C = dims[L];
  for (uint32_t r = 0; r < B; r++)
    if (labels[r] < 0 || (uint32_t)labels[r] >= C) return Fail(env, "lth_sgemm.convStep: a label is not a class index");

  // Every buffer before anything is written: running out of memory leaves the weights as they were.
  static convnet::Buffers buf;
  static Scratch Z, V2, dU, gFlat, firstPartial;
  bool memory = convnet::reserveForward(B, convs, buf, true) && gFlat.get((size_t)B * dims[0]);
  for (uint32_t k = 0; k < NC && memory; k++) {
    Conv& cv = convs[k];
    const uint64_t rows = (uint64_t)B * cv.H * cv.W, T = wino::tilesOf(B, cv.H, cv.W).T, ci = cv.ci, co = cv.co;
    const uint64_t parts = (rows + kGradRows - 1) / kGradRows;
    memory = cv.dz.get(rows * co) && (k > 0 || firstPartial.get(parts * (9 * ci + 1) * co)) &&
             (k == 0 || (cv.gin.get(rows * ci) && buf.U.get(wino::kPoints * co * ci) && Z.get(wino::kPoints * T * co) &&
                         V2.get(wino::kPoints * T * (co + ci)) && dU.get(wino::kPoints * ci * co)));
  }
  if (!memory) return Fail(env, "lth_sgemm.convStep: out of memory for the step's buffers");

  // Forward through the convolutions, then the dense chain's forward, loss and backward down to
  // g, the gradient of the last convolution's (pooled) output. Scratch persists across calls
  // (only the JS thread calls this).
  static std::vector<std::vector<float>> grads;
  grads.resize(params.size());
  std::vector<const float*> w(NC), b(NC);
  for (uint32_t k = 0; k < NC; k++) w[k] = params[2 * k].p, b[k] = params[2 * k + 1].p;
  const float* flat = convnet::forward(B, x, convs, w.data(), b.data(), buf, true, threads);
  float* g = gFlat.data();
  const float lossSum = denseChainGradients(B, L, dims, denseFields, flat, labels, params.data() + 2 * NC, grads.data() + 2 * NC, g, threads);

  // Back through the convolutions: g is the gradient of conv k's (pooled) output.
  Tasks tasks;
  for (uint32_t k = NC; k-- > 0;) {
    Conv& cv = convs[k];
    const uint32_t rows = B * cv.H * cv.W, ci = cv.ci, co = cv.co, Hh = cv.H, Ww = cv.W;
    float* dzp = cv.dz.get((size_t)rows * co);
    const float* a = cv.a.data();
    const bool pool = cv.pool;
    convnet::chunks(tasks, B, 1, [=](uint32_t b0, uint32_t b1) { convnet::poolReluBackward(a, g, Hh, Ww, co, pool, dzp, b0, b1); });
    tasks.run(threads);
    std::vector<float>& gw = grads[2 * k];
    gw.resize((size_t)9 * ci * co);
    float* gwp = gw.data();
    float* gb = nullptr;
    if (params[2 * k + 1].p) {
      grads[2 * k + 1].resize(co);
      gb = grads[2 * k + 1].data();
    }
    if (k == 0) {
      // P^T dz over all rows, in parts of kGradRows rows (a number fixed by the shapes) that run
      // in parallel and are added in order; the bias gradient likewise.
      const uint32_t K = 9 * ci, parts = (rows + kGradRows - 1) / kGradRows;
      const float* P = buf.patches.data();
      float* partial = firstPartial.data();
      for (uint32_t i = 0; i < parts; i++) {
        const uint32_t r0 = i * kGradRows, n = rows - r0 < kGradRows ? rows - r0 : kGradRows;
        float* pw = partial + (size_t)i * (K + 1) * co;
        tasks.add([=] {
          gemmColumns({true, false, K, co, n, P + (size_t)r0 * K, K, dzp + (size_t)r0 * co, co, pw}, 0, co);
          if (gb) convnet::columnSums(dzp + (size_t)r0 * co, n, co, pw + (size_t)K * co);
        });
      }
      tasks.run(threads);
      for (uint32_t j = 0; j < (K + 1) * co; j++) {
        float sum = partial[j];
        for (uint32_t i = 1; i < parts; i++) sum += partial[(size_t)i * (K + 1) * co + j];
        if (j < K * co) gwp[j] = sum;
        else if (gb) gb[j - K * co] = sum;
      }
      break;
    }
    if (gb) tasks.add([=] { convnet::columnSums(dzp, rows, co, gb); });
    // The filter gradient (Z, then dU, then dw) and the input gradient (winogradBlocks with the
    // flipped filter), their stages together.
    const wino::Tiles t = wino::tilesOf(B, Hh, Ww);
    float* Zp = Z.data();
    float* Up = buf.U.data();
    float* dUp = dU.data();
    float* ginp = cv.gin.data();
    const float* V = cv.V.data();
    wino::filterTransform(params[2 * k].p, ci, co, true, Up);
    convnet::chunks(tasks, t.T, convnet::kTileChunk, [=](uint32_t t0, uint32_t t1) { wino::gradTransform(t, co, dzp, Zp, t0, t1); });
    tasks.run(threads);
    for (uint32_t p = 0; p < wino::kPoints; p++)
      tasks.add([=] { gemmColumns({true, false, ci, co, t.T, V + (size_t)p * t.T * ci, ci, Zp + (size_t)p * t.T * co, co, dUp + (size_t)p * ci * co}, 0, co); });
    convnet::winogradBlocks(tasks, t, co, ci, dzp, Up, nullptr, false, ginp, nullptr, V2.data());
    tasks.run(threads);
    wino::filterGradient(dUp, ci, co, gwp);
    g = ginp;
  }

  update(params, grads, opt, s, threads);
  napi_value result;
  napi_create_double(env, -static_cast<double>(lossSum / static_cast<float>(B)), &result);
  return result;
}
