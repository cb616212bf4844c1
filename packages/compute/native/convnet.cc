// The convolutional layers (convnet.h).
#include "convnet.h"
#include <cstring>
#include "winograd.h"

namespace lth {
namespace convnet {
namespace {

// Rows [r0, r1) of the im2col matrix of x [B, H, W, C]: row (b, y, x), column (i, j, c) of the
// 3x3 neighbourhood, zero outside the image; the column order is HWIO's, so P · w is the conv.
// Plain loops, not memcpy: the first layer copies 3 floats at a time, and a libc call per copy
// was 5% of the Conv-2 step (perf: __memmove_avx_unaligned_erms).
__attribute__((optimize("no-tree-loop-distribute-patterns"))) void im2colRows(const float* __restrict x, uint32_t H, uint32_t W, uint32_t C,
                                                                          float* __restrict P, uint32_t r0, uint32_t r1) {
  const uint32_t K = 9 * C;
  for (uint32_t r = r0; r < r1; r++) {
    const uint32_t b = r / (H * W), y = r / W % H, xx = r % W;
    float* row = P + (size_t)r * K;
    for (int i = 0; i < 3; i++) {
      const int32_t yy = (int32_t)y + i - 1;
      float* dst = row + i * 3 * C;
      if (yy < 0 || yy >= (int32_t)H) {
        for (uint32_t k = 0; k < 3 * C; k++) dst[k] = 0.0f;
        continue;
      }
      const float* mid = x + (((size_t)b * H + yy) * W + xx) * C;  // the taps are columns xx - 1 .. xx + 1
      const float *left = mid - C, *right = mid + C;
      for (uint32_t k = 0; k < C; k++) dst[k] = xx > 0 ? left[k] : 0.0f;
      for (uint32_t k = 0; k < C; k++) dst[C + k] = mid[k];
      for (uint32_t k = 0; k < C; k++) dst[2 * C + k] = xx + 1 < W ? right[k] : 0.0f;
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

}  // namespace

// Branch-free selects: the signs of a are a coin toss, and a branch per element cost ~20 ms of a
// Conv-2 step in mispredictions.
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

void columnSums(const float* dz, uint32_t rows, uint32_t C, float* sum) {
  for (uint32_t c = 0; c < C; c++) sum[c] = 0.0f;
  for (uint32_t r = 0; r < rows; r++)
    for (uint32_t c = 0; c < C; c++) sum[c] += dz[(size_t)r * C + c];
}


void winogradBlocks(Tasks& tasks, const wino::Tiles& t, uint32_t ci, uint32_t co, const float* x, const float* U, const float* bias, bool relu, float* y,
                    float* keepV, float* scratch) {
  chunks(tasks, t.T, kTileChunk, [=](uint32_t t0, uint32_t t1) {
    const uint32_t n = t1 - t0;
    // This block's part of scratch: its M, then (unless kept) its V, each [36][n][*].
    float* M = scratch + (size_t)t0 * wino::kPoints * (co + (keepV ? 0 : ci));
    float* V = keepV ? keepV : M + (size_t)wino::kPoints * n * co;
    const wino::Span vAt = keepV ? wino::Span{0, t.T} : wino::Span{t0, n};
    wino::inputTransform(t, ci, x, V, vAt, t0, t1);
    for (uint32_t p = 0; p < wino::kPoints; p++)
      gemmColumns({false, false, n, co, ci, V + ((size_t)p * vAt.rows + t0 - vAt.base) * ci, ci, U + (size_t)p * ci * co, co, M + (size_t)p * n * co}, 0, co);
    wino::outputTransform(t, co, M, {t0, n}, bias, relu, y, t0, t1);
  });
}

bool shapes(uint32_t B, uint32_t H, uint32_t W, uint32_t C0, uint32_t NC, const uint32_t* fields, uint32_t stride, std::vector<Conv>& convs, uint64_t* flat) {
  convs.resize(NC);
  uint32_t h = H, w = W, c = C0;
  for (uint32_t k = 0; k < NC; k++) {
    const uint32_t co = fields[k * stride], pool = fields[k * stride + 1];
    // Every product's sizes must fit an int: rows of im2col (B h w) times its width (9 c).
    const uint64_t rows = (uint64_t)B * h * w, widest = 9ull * (c > co ? c : co);
    if (co == 0 || co > 4096 || rows * widest >= (1ull << 31) || pool > 1 || (pool && (h < 2 || w < 2))) return false;
    Conv& cv = convs[k];
    cv.H = h, cv.W = w, cv.ci = c, cv.co = co, cv.pool = pool != 0;
    if (pool) h /= 2, w /= 2;
    c = co;
  }
  *flat = (uint64_t)h * w * c;
  return true;
}

bool reserveForward(uint32_t B, std::vector<Conv>& convs, Buffers& buf, bool keepV) {
  for (size_t k = 0; k < convs.size(); k++) {
    Conv& cv = convs[k];
    const uint64_t rows = (uint64_t)B * cv.H * cv.W, T = wino::tilesOf(B, cv.H, cv.W).T, ci = cv.ci, co = cv.co;
    if (!cv.a.get(rows * co) || (cv.pool && !cv.pooled.get((uint64_t)B * (cv.H / 2) * (cv.W / 2) * co))) return false;
    if (k == 0 ? !buf.patches.get(rows * 9 * ci)
               : (keepV && !cv.V.get(wino::kPoints * T * ci)) || !buf.U.get(wino::kPoints * ci * co) || !buf.M.get(wino::kPoints * T * (co + (keepV ? 0 : ci))))
      return false;
  }
  return true;
}

const float* forward(uint32_t B, const float* x, std::vector<Conv>& convs, const float* const* w, const float* const* b, Buffers& buf, bool keepV,
                     unsigned threads) {
  Tasks tasks;
  const float* in = x;  // this layer's input: x, then the previous layer's (pooled) output
  for (size_t k = 0; k < convs.size(); k++) {
    Conv& cv = convs[k];
    const uint32_t rows = B * cv.H * cv.W, ci = cv.ci, co = cv.co, Hh = cv.H, Ww = cv.W;
    const float *wk = w[k], *bk = b[k];
    float* a = cv.a.data();
    if (k == 0) {
      const uint32_t K = 9 * ci;
      float* P = buf.patches.data();
      chunks(tasks, rows, kRowChunk, [=](uint32_t r0, uint32_t r1) {
        im2colRows(in, Hh, Ww, ci, P, r0, r1);
        gemmColumns({false, false, r1 - r0, co, K, P + (size_t)r0 * K, K, wk, co, a + (size_t)r0 * co}, 0, co);
        biasRelu(a + (size_t)r0 * co, r1 - r0, co, bk);
      });
      tasks.run(threads);
    } else {
      const wino::Tiles t = wino::tilesOf(B, Hh, Ww);
      float* Up = buf.U.data();
      wino::filterTransform(wk, ci, co, false, Up);
      winogradBlocks(tasks, t, ci, co, in, Up, bk, true, a, keepV ? cv.V.data() : nullptr, buf.M.data());
      tasks.run(threads);
    }
    if (cv.pool) {
      float* p = cv.pooled.data();
      chunks(tasks, B, 1, [=](uint32_t b0, uint32_t b1) { maxPool(a, Hh, Ww, co, p, b0, b1); });
      tasks.run(threads);
    }
    in = cv.pool ? cv.pooled.data() : a;
  }
  return in;
}

}  // namespace convnet
}  // namespace lth
