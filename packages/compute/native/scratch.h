// Scratch memory for the native steps: kept across calls, grown only, never zero-filled, and in
// transparent huge pages where the kernel allows them (madvise mode). Why: a Conv-2 step walks
// ~200 MB of Winograd buffers, whose transforms write each tile to 36 places ~1 MB apart; with
// 4 KB pages that is a TLB miss per write, and a std::vector that grew again page-faulted and
// zeroed megabytes every step.
#pragma once
#include <sys/mman.h>
#include <cstddef>
#include <cstdlib>

namespace lth {

class Scratch {
 public:
  Scratch() = default;
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  Scratch(Scratch&& o) noexcept : p_(o.p_), cap_(o.cap_) { o.p_ = nullptr, o.cap_ = 0; }
  ~Scratch() { std::free(p_); }
  // At least n floats, contents unspecified; null when memory ran out (the buffer is kept).
  float* get(size_t n) {
    if (n > cap_) {
      constexpr size_t kHuge = 2u << 20;
      const size_t bytes = (n * sizeof(float) + kHuge - 1) / kHuge * kHuge;
      void* p = std::aligned_alloc(kHuge, bytes);
      if (!p) return nullptr;
      madvise(p, bytes, MADV_HUGEPAGE);  // advice only: without it the pages are small
      std::free(p_);
      p_ = static_cast<float*>(p);
      cap_ = bytes / sizeof(float);
    }
    return p_;
  }
  float* data() const { return p_; }

 private:
  float* p_ = nullptr;
  size_t cap_ = 0;
};

}  // namespace lth
