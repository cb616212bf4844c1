// @lth/compute's optional native products (LTH_NATIVE_BLAS=1; src/wasm/gemm/native.ts):
// cblas_sgemm on float32 data inside one ArrayBuffer, tfjs-backend-wasm's heap, so no copy.
// Offsets are in bytes; row-major; C = op(A) op(B).
#include <node_api.h>
#include <cblas.h>

extern "C" void openblas_set_num_threads(int);
// mlp.cc
napi_value MlpStep(napi_env env, napi_callback_info info);
napi_value MlpForward(napi_env env, napi_callback_info info);
napi_value NormalizeRows(napi_env env, napi_callback_info info);

static bool Arg(napi_env env, napi_value v, uint32_t* out) { return napi_get_value_uint32(env, v, out) == napi_ok; }

static napi_value Fail(napi_env env, const char* what) {
  napi_throw_type_error(env, nullptr, what);
  return nullptr;
}

static napi_value Sgemm(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value args[9];
  napi_get_cb_info(env, info, &argc, args, nullptr, nullptr);
  if (argc != 9) return Fail(env, "lth_sgemm.sgemm: 9 arguments (buffer, a, b, c, m, n, k, transposeA, transposeB)");
  void* data;
  size_t len;
  if (napi_get_arraybuffer_info(env, args[0], &data, &len) != napi_ok) return Fail(env, "lth_sgemm.sgemm: the first argument must be an ArrayBuffer");
  uint32_t ao, bo, co, m, n, k;
  bool ta, tb;
  if (!Arg(env, args[1], &ao) || !Arg(env, args[2], &bo) || !Arg(env, args[3], &co) || !Arg(env, args[4], &m) || !Arg(env, args[5], &n) || !Arg(env, args[6], &k) ||
      napi_get_value_bool(env, args[7], &ta) != napi_ok || napi_get_value_bool(env, args[8], &tb) != napi_ok)
    return Fail(env, "lth_sgemm.sgemm: offsets and sizes must be uint32, transposes booleans");
  // Every operand must lie inside the buffer: a bad offset would read or write outside it.
  const uint64_t fa = (uint64_t)m * k * 4, fb = (uint64_t)k * n * 4, fc = (uint64_t)m * n * 4;
  if (ao % 4 || bo % 4 || co % 4 || ao + fa > len || bo + fb > len || co + fc > len) return Fail(env, "lth_sgemm.sgemm: an operand lies outside the buffer");
  char* base = static_cast<char*>(data);
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)k, 1.0f, reinterpret_cast<const float*>(base + ao),
              ta ? (int)m : (int)k, reinterpret_cast<const float*>(base + bo), tb ? (int)k : (int)n, 0.0f, reinterpret_cast<float*>(base + co), (int)n);
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
  napi_create_function(env, "normalizeRows", NAPI_AUTO_LENGTH, NormalizeRows, nullptr, &f);
  napi_set_named_property(env, exports, "normalizeRows", f);
  return exports;
}
