// convForward (convnet.h): the eval-mode logits of a conv net, convStep's forward pass, for
// evaluations (src/wasm/convnet/native-convnet.ts, nativeConvNetForward). A batch runs in
// slices of kSliceImages images, so the Winograd buffers stay the size of a training batch's
// whatever the evaluation batch size. The slice size is a constant (not the thread budget):
// OpenBLAS may round a product differently for another row count.
#include <node_api.h>
#include <cstdint>
#include <vector>
#include "chain.h"
#include "convnet.h"
#include "napi_args.h"

using lth::Fail;
using lth::Heap;
using lth::kNone;
using namespace lth;

namespace {

// desc = [batch, height, width, channels, convs, dense, x, out], per conv [filters, pool, W, b],
// dims[dense + 1], per dense layer [W, b, relu].
enum Header { kBatch, kHeight, kWidth, kChannels, kConvs, kDense, kX, kOut, kHeader };
enum ConvField { kFilters, kPool, kCW, kCB, kConvFields };
constexpr uint32_t kFcFields = 3;  // per dense layer: W, b, relu (resolveForwardDense)

constexpr uint32_t kSliceImages = 64;

}  // namespace

// convForward(heap: ArrayBuffer, desc: Uint32Array, threads): the logits [batch, classes] at desc's output offset.
napi_value ConvForward(napi_env env, napi_callback_info info) {
  HeapCall call;
  if (!readHeapCall(env, info, "lth_sgemm.convForward", kHeader, &call, false)) return nullptr;
  const Heap& heap = call.heap;
  const unsigned threads = call.threads;
  const uint32_t* d = call.desc;
  const size_t descLen = call.descLen;
  const uint32_t B = d[kBatch], H = d[kHeight], W = d[kWidth], C0 = d[kChannels], NC = d[kConvs], L = d[kDense];
  if (B == 0 || B > 65536 || H == 0 || H > 4096 || W == 0 || W > 4096 || C0 == 0 || C0 > 4096 || NC == 0 || NC > 32 || L == 0 || L > 64 ||
      descLen != kHeader + NC * kConvFields + (L + 1) + L * kFcFields)
    return Fail(env, "lth_sgemm.convForward: descriptor size does not match its batch and layers");
  const uint32_t* convFields = d + kHeader;
  const uint32_t* dims = convFields + NC * kConvFields;
  const uint32_t* denseFields = dims + L + 1;
  static std::vector<convnet::Conv> convs;
  uint64_t flatSize;
  const uint32_t slice = B < kSliceImages ? B : kSliceImages;
  if (!convnet::shapes(slice, H, W, C0, NC, convFields, kConvFields, convs, &flatSize))
    return Fail(env, "lth_sgemm.convForward: a convolution's filters, pool or size is out of range");
  if (!lth::widthsOk(dims, L)) return Fail(env, "lth_sgemm.convForward: layer widths must be in 1..2^24");
  if (flatSize != dims[0]) return Fail(env, "lth_sgemm.convForward: the first dense layer's inputs are not the last convolution's outputs");
  std::vector<const float*> cw(NC), cb(NC), dw, db;
  for (uint32_t k = 0; k < NC; k++) {
    const uint32_t* f = convFields + k * kConvFields;
    cw[k] = heap.at<float>(f[kCW], 9ull * convs[k].ci * convs[k].co);
    cb[k] = f[kCB] == kNone ? nullptr : heap.at<float>(f[kCB], convs[k].co);
    if (!cw[k] || (f[kCB] != kNone && !cb[k])) return Fail(env, "lth_sgemm.convForward: a weight lies outside the heap");
  }
  std::vector<bool> relu;
  if (!resolveForwardDense(heap, L, dims, denseFields, dw, db, relu)) return Fail(env, "lth_sgemm.convForward: a weight lies outside the heap");
  const float* x = heap.at<float>(d[kX], (uint64_t)B * H * W * C0);
  float* out = heap.at<float>(d[kOut], (uint64_t)B * dims[L]);
  if (!x || !out) return Fail(env, "lth_sgemm.convForward: the batch or the output lies outside the heap");
  static convnet::Buffers buf;
  static std::vector<std::vector<float>> acts;
  acts.resize(L);
  for (uint32_t l = 0; l + 1 < L; l++) acts[l].resize((size_t)slice * dims[l + 1]);
  if (!convnet::reserveForward(slice, convs, buf, false)) return Fail(env, "lth_sgemm.convForward: out of memory for the pass's buffers");
  const size_t image = (size_t)H * W * C0;
  for (uint32_t b0 = 0; b0 < B; b0 += slice) {
    const uint32_t n = B - b0 < slice ? B - b0 : slice;
    const float* flat = convnet::forward(n, x + b0 * image, convs, cw.data(), cb.data(), buf, false, threads);
    std::vector<float*> outs(L);
    for (uint32_t l = 0; l < L; l++) outs[l] = l + 1 < L ? acts[l].data() : out + (size_t)b0 * dims[L];
    denseForward(n, L, dims, flat, dw.data(), db.data(), relu, outs.data(), true, threads);
  }
  return nullptr;
}
