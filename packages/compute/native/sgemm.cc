// @lth/compute's optional native products (LTH_NATIVE_BLAS=1; src/wasm/gemm/native.ts):
// cblas_sgemm on float32 data inside one ArrayBuffer, tfjs-backend-wasm's heap, so no copy.
// Offsets are in bytes; row-major; C = op(A) op(B).
#include <node_api.h>
#include <cblas.h>

#include "napi_args.h"

using lth::Fail;
using lth::Heap;

extern "C" void openblas_set_num_threads(int);
// mlp.cc, convnet_step.cc, convnet_forward.cc, normalize.cc
napi_value MlpStep(napi_env env, napi_callback_info info);
napi_value MlpForward(napi_env env, napi_callback_info info);
napi_value ConvStep(napi_env env, napi_callback_info info);
napi_value ConvForward(napi_env env, napi_callback_info info);
napi_value NormalizeRows(napi_env env, napi_callback_info info);

static bool Arg(napi_env env, napi_value v, uint32_t* out) { return napi_get_value_uint32(env, v, out) == napi_ok; }

static napi_value Sgemm(napi_env env, napi_callback_info info) {
  napi_value args[9];
  Heap heap;
  if (!lth::heapCall(env, info, 9, args, heap, "lth_sgemm.sgemm", "(buffer, a, b, c, m, n, k, transposeA, transposeB)")) return nullptr;
  uint32_t ao, bo, co, m, n, k;
  bool ta, tb;
  if (!Arg(env, args[1], &ao) || !Arg(env, args[2], &bo) || !Arg(env, args[3], &co) || !Arg(env, args[4], &m) || !Arg(env, args[5], &n) || !Arg(env, args[6], &k) ||
      napi_get_value_bool(env, args[7], &ta) != napi_ok || napi_get_value_bool(env, args[8], &tb) != napi_ok)
    return Fail(env, "lth_sgemm.sgemm: offsets and sizes must be uint32, transposes booleans");
  // Every operand must lie inside the buffer: a bad offset would read or write outside it.
  const float* a = heap.at<float>(ao, (uint64_t)m * k);
  const float* b = heap.at<float>(bo, (uint64_t)k * n);
  float* c = heap.at<float>(co, (uint64_t)m * n);
  if (!a || !b || !c) return Fail(env, "lth_sgemm.sgemm: an operand lies outside the buffer");
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)k, 1.0f, a, ta ? (int)m : (int)k, b,
              tb ? (int)k : (int)n, 0.0f, c, (int)n);
  return nullptr;
}

static napi_value SetThreads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value a;
  napi_get_cb_info(env, info, &argc, &a, nullptr, nullptr);
  uint32_t t;
  if (argc != 1 || !Arg(env, a, &t) || t < 1) return Fail(env, "lth_sgemm.setThreads: a positive integer");
  openblas_set_num_threads((int)t);
  return nullptr;
}

NAPI_MODULE_INIT() {
  napi_value f;
  napi_create_function(env, "sgemm", NAPI_AUTO_LENGTH, Sgemm, nullptr, &f);
  napi_set_named_property(env, exports, "sgemm", f);
  napi_create_function(env, "setThreads", NAPI_AUTO_LENGTH, SetThreads, nullptr, &f);
  napi_set_named_property(env, exports, "setThreads", f);
  napi_create_function(env, "mlpStep", NAPI_AUTO_LENGTH, MlpStep, nullptr, &f);
  napi_set_named_property(env, exports, "mlpStep", f);
  napi_create_function(env, "mlpForward", NAPI_AUTO_LENGTH, MlpForward, nullptr, &f);
  napi_set_named_property(env, exports, "mlpForward", f);
  napi_create_function(env, "convStep", NAPI_AUTO_LENGTH, ConvStep, nullptr, &f);
  napi_set_named_property(env, exports, "convStep", f);
  napi_create_function(env, "convForward", NAPI_AUTO_LENGTH, ConvForward, nullptr, &f);
  napi_set_named_property(env, exports, "convForward", f);
  napi_create_function(env, "normalizeRows", NAPI_AUTO_LENGTH, NormalizeRows, nullptr, &f);
  napi_set_named_property(env, exports, "normalizeRows", f);
  return exports;
}
