// Argument checks shared by the addon's functions (mlp.cc, normalize.cc): every buffer a call
// names is checked before anything is read or written.
#pragma once
#include <node_api.h>
#include <cmath>
#include <cstdint>
#include <string>

namespace lth {

constexpr uint32_t kNone = 0xFFFFFFFFu;

inline napi_value Fail(napi_env env, const char* what) {
  napi_throw_type_error(env, nullptr, what);
  return nullptr;
}

// tfjs-backend-wasm's heap, an ArrayBuffer.
struct Heap {
  char* base = nullptr;
  size_t len = 0;
  // A float32 (or int32) operand of `count` elements at byte offset `off`, or null when it
  // would not lie inside the heap.
  template <typename T>
  T* at(uint32_t off, uint64_t count) const {
    if (off == kNone || off % 4 || off + count * 4 > len) return nullptr;
    return reinterpret_cast<T*>(base + off);
  }
};

inline bool heapArg(napi_env env, napi_value v, Heap& heap) {
  void* data;
  if (napi_get_arraybuffer_info(env, v, &data, &heap.len) != napi_ok) return false;
  heap.base = static_cast<char*>(data);
  return true;
}

// A typed array of the given type: its data and element count.
template <typename T>
bool typedArg(napi_env env, napi_value v, napi_typedarray_type want, T** data, size_t* length) {
  napi_typedarray_type type;
  void* p;
  if (napi_get_typedarray_info(env, v, &type, length, &p, nullptr, nullptr) != napi_ok || type != want) return false;
  *data = static_cast<T*>(p);
  return true;
}

// The call's arguments, false unless there are exactly n.
inline bool args(napi_env env, napi_callback_info info, size_t n, napi_value* out) {
  size_t argc = n;
  return napi_get_cb_info(env, info, &argc, out, nullptr, nullptr) == napi_ok && argc == n;
}

// The start of every call on the heap: exactly n arguments (`signature` names them), the heap
// first. False, with the error thrown as `who: ...`, otherwise.
inline bool heapCall(napi_env env, napi_callback_info info, size_t n, napi_value* out, Heap& heap, const char* who, const char* signature) {
  if (!args(env, info, n, out)) {
    Fail(env, (std::string(who) + ": " + std::to_string(n) + " arguments " + signature).c_str());
    return false;
  }
  if (!heapArg(env, out[0], heap)) {
    Fail(env, (std::string(who) + ": the heap must be an ArrayBuffer").c_str());
    return false;
  }
  return true;
}

// A call on the heap whose last argument is the thread budget (mlp.cc): heapCall, then the
// budget, a whole number in 1..64. False, with the error thrown, otherwise.
inline bool heapThreadsCall(napi_env env, napi_callback_info info, size_t n, napi_value* out, Heap& heap, unsigned* threads, const char* who,
                            const char* signature) {
  if (!heapCall(env, info, n, out, heap, who, signature)) return false;
  double t;
  if (napi_get_value_double(env, out[n - 1], &t) != napi_ok || !(t >= 1 && t <= 64) || t != std::floor(t)) {
    Fail(env, (std::string(who) + ": threads must be a whole number in 1..64").c_str());
    return false;
  }
  *threads = static_cast<unsigned>(t);
  return true;
}

// Whether a chain's layer widths dims[0..layers] are all in 1..2^24 (so every product's sizes fit an int).
inline bool widthsOk(const uint32_t* dims, uint32_t layers) {
  for (uint32_t i = 0; i <= layers; i++)
    if (dims[i] == 0 || dims[i] > (1u << 24)) return false;
  return true;
}

}  // namespace lth
