// @lth/data's batches gathered and normalized (src/wasm/gemm/native.ts, nativeNormalizeRows).
#include <node_api.h>
#include <cstdint>
#include "napi_args.h"

using lth::Fail;

// normalizeRows(images: Uint8Array, rows: Int32Array, size, channels, lut: Float32Array, out:
// Float32Array): out[i] = the image rows[i] through the per-channel table lut[channel * 256 +
// byte] (@lth/data's batches: the JS loop took ~0.3 ms of a LeNet batch of 60).
napi_value NormalizeRows(napi_env env, napi_callback_info info) {
  napi_value args[6];
  if (!lth::args(env, info, 6, args)) return Fail(env, "lth_sgemm.normalizeRows: 6 arguments (images, rows, size, channels, lut, out)");
  const uint8_t* images;
  const int32_t* rows;
  const float* lut;
  float* out;
  size_t len[4];
  if (!lth::typedArg(env, args[0], napi_uint8_array, &images, &len[0]) || !lth::typedArg(env, args[1], napi_int32_array, &rows, &len[1]) ||
      !lth::typedArg(env, args[4], napi_float32_array, &lut, &len[2]) || !lth::typedArg(env, args[5], napi_float32_array, &out, &len[3]))
    return Fail(env, "lth_sgemm.normalizeRows: images Uint8Array, rows Int32Array, lut and out Float32Array");
  uint32_t size, channels;
  if (napi_get_value_uint32(env, args[2], &size) != napi_ok || napi_get_value_uint32(env, args[3], &channels) != napi_ok || channels == 0 || size % channels)
    return Fail(env, "lth_sgemm.normalizeRows: size and channels must be uint32, size a multiple of channels");
  const uint64_t count = len[1];
  if (len[2] != (uint64_t)channels * 256 || len[3] != count * size) return Fail(env, "lth_sgemm.normalizeRows: lut or out has the wrong length");
  for (uint64_t i = 0; i < count; i++)
    if (rows[i] < 0 || ((uint64_t)rows[i] + 1) * size > len[0]) return Fail(env, "lth_sgemm.normalizeRows: a row lies outside the images");
  for (uint64_t i = 0; i < count; i++) {
    const uint8_t* src = images + (uint64_t)rows[i] * size;
    float* dst = out + i * size;
    if (channels == 1)
      for (uint32_t p = 0; p < size; p++) dst[p] = lut[src[p]];
    else
      for (uint32_t p = 0; p < size; p++) dst[p] = lut[(p % channels) * 256 + src[p]];
  }
  return nullptr;
}
