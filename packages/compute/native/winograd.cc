// F(4x4, 3x3) transforms (winograd.h). Each 1-D transform is applied to C channels at once (the
// innermost, contiguous dimension of NHWC), so the loops vectorize; `ivdep` because with six
// input and six output streams GCC gives up on proving they do not overlap (they never do) and
// compiled scalar code (perf: vmulss/vaddss, ~3x slower transforms).
#include "winograd.h"
#include <cstring>
#include <vector>

#define LTH_INLINE static inline __attribute__((always_inline))
#define LTH_CLONES __attribute__((target_clones("avx2", "default")))

namespace lth {
namespace wino {
namespace {

// out[k * os + c] = (B^T d)_k, d_m = in[m * is + c]: 6 -> 6.
LTH_INLINE void bt(const float* __restrict in, size_t is, float* __restrict out, size_t os, uint32_t C) {
#pragma GCC ivdep
  for (uint32_t c = 0; c < C; c++) {
    const float d0 = in[c], d1 = in[is + c], d2 = in[2 * is + c], d3 = in[3 * is + c], d4 = in[4 * is + c], d5 = in[5 * is + c];
    out[c] = 4 * d0 - 5 * d2 + d4;
    out[os + c] = -4 * d1 - 4 * d2 + d3 + d4;
    out[2 * os + c] = 4 * d1 - 4 * d2 - d3 + d4;
    out[3 * os + c] = -2 * d1 - d2 + 2 * d3 + d4;
    out[4 * os + c] = 2 * d1 - d2 - 2 * d3 + d4;
    out[5 * os + c] = 4 * d1 - 5 * d3 + d5;
  }
}

// (A^T m)_k: 6 -> 4.
LTH_INLINE void atr(const float* __restrict in, size_t is, float* __restrict out, size_t os, uint32_t C) {
#pragma GCC ivdep
  for (uint32_t c = 0; c < C; c++) {
    const float m0 = in[c], m1 = in[is + c], m2 = in[2 * is + c], m3 = in[3 * is + c], m4 = in[4 * is + c], m5 = in[5 * is + c];
    out[c] = m0 + m1 + m2 + m3 + m4;
    out[os + c] = m1 - m2 + 2 * m3 - 2 * m4;
    out[2 * os + c] = m1 + m2 + 4 * m3 + 4 * m4;
    out[3 * os + c] = m1 - m2 + 8 * m3 - 8 * m4 + m5;
  }
}

// (A dy)_k: 4 -> 6.
LTH_INLINE void a6(const float* __restrict in, size_t is, float* __restrict out, size_t os, uint32_t C) {
#pragma GCC ivdep
  for (uint32_t c = 0; c < C; c++) {
    const float d0 = in[c], d1 = in[is + c], d2 = in[2 * is + c], d3 = in[3 * is + c];
    out[c] = d0;
    out[os + c] = d0 + d1 + d2 + d3;
    out[2 * os + c] = d0 - d1 + d2 - d3;
    out[3 * os + c] = d0 + 2 * d1 + 4 * d2 + 8 * d3;
    out[4 * os + c] = d0 - 2 * d1 + 4 * d2 - 8 * d3;
    out[5 * os + c] = d3;
  }
}

// G (6x3) and its use on one 3-vector, and G^T on one 6-vector.
constexpr float kG[6][3] = {{1.f / 4, 0, 0},           {-1.f / 6, -1.f / 6, -1.f / 6}, {-1.f / 6, 1.f / 6, -1.f / 6},
                            {1.f / 24, 1.f / 12, 1.f / 6}, {1.f / 24, -1.f / 12, 1.f / 6}, {0, 0, 1}};

// Where tile t lies: its image and the top-left corner of its 4x4 output block.
struct At {
  uint32_t b;
  int32_t y, x;
};
LTH_INLINE At locate(const Tiles& g, uint32_t t) {
  const uint32_t per = g.th * g.tw, r = t % per;
  return {t / per, (int32_t)(r / g.tw * 4), (int32_t)(r % g.tw * 4)};
}

}  // namespace

Tiles tilesOf(uint32_t B, uint32_t H, uint32_t W) {
  const uint32_t th = (H + 3) / 4, tw = (W + 3) / 4;
  return {B, H, W, th, tw, B * th * tw};
}

LTH_CLONES void inputTransform(const Tiles& g, uint32_t C, const float* x, float* V, Span at, uint32_t t0, uint32_t t1) {
  thread_local std::vector<float> buf;
  buf.resize((size_t)72 * C);
  float* d = buf.data();            // [6][6][C], the tile
  float* t = d + (size_t)36 * C;    // [6][6][C], B^T d
  const size_t ps = (size_t)at.rows * C;  // between points of V
  for (uint32_t tile = t0; tile < t1; tile++) {
    const At a = locate(g, tile);
    // An inner tile is read where it lies (rows W * C apart); one that crosses the border is
    // first gathered with its zero padding.
    const bool inner = a.y >= 1 && a.x >= 1 && a.y + 5 <= (int32_t)g.H && a.x + 5 <= (int32_t)g.W;
    const float* src = d;
    size_t rowStride = (size_t)6 * C;
    if (inner) {
      src = x + (((size_t)a.b * g.H + a.y - 1) * g.W + a.x - 1) * C;
      rowStride = (size_t)g.W * C;
    } else {
      for (int i = 0; i < 6; i++)
        for (int j = 0; j < 6; j++) {
          const int32_t y = a.y - 1 + i, xx = a.x - 1 + j;
          float* dst = d + (size_t)(i * 6 + j) * C;
          if (y < 0 || xx < 0 || y >= (int32_t)g.H || xx >= (int32_t)g.W) std::memset(dst, 0, (size_t)C * 4);
          else std::memcpy(dst, x + (((size_t)a.b * g.H + y) * g.W + xx) * C, (size_t)C * 4);
        }
    }
    for (int j = 0; j < 6; j++) bt(src + (size_t)j * C, rowStride, t + (size_t)j * C, (size_t)6 * C, C);
    for (int k = 0; k < 6; k++) bt(t + (size_t)k * 6 * C, C, V + (size_t)k * 6 * ps + (size_t)(tile - at.base) * C, ps, C);
  }
}

LTH_CLONES void outputTransform(const Tiles& g, uint32_t C, const float* M, Span at, const float* bias, bool relu, float* y, uint32_t t0, uint32_t t1) {
  thread_local std::vector<float> buf;
  buf.resize((size_t)40 * C);
  float* t = buf.data();            // [4][6][C], A^T m
  float* o = t + (size_t)24 * C;    // [4][4][C], A^T m A
  const size_t ps = (size_t)at.rows * C;
  for (uint32_t tile = t0; tile < t1; tile++) {
    const At a = locate(g, tile);
    for (int j = 0; j < 6; j++) atr(M + (size_t)j * ps + (size_t)(tile - at.base) * C, 6 * ps, t + (size_t)j * C, (size_t)6 * C, C);
    for (int k = 0; k < 4; k++) atr(t + (size_t)k * 6 * C, C, o + (size_t)k * 4 * C, C, C);
    for (int i = 0; i < 4; i++)
      for (int j = 0; j < 4; j++) {
        const int32_t yy = a.y + i, xx = a.x + j;
        if (yy >= (int32_t)g.H || xx >= (int32_t)g.W) continue;
        const float* s = o + (size_t)(i * 4 + j) * C;
        float* dst = y + (((size_t)a.b * g.H + yy) * g.W + xx) * C;
        if (bias)
          for (uint32_t c = 0; c < C; c++) dst[c] = s[c] + bias[c];
        else
          std::memcpy(dst, s, (size_t)C * 4);
        if (relu)
          for (uint32_t c = 0; c < C; c++) dst[c] = dst[c] > 0 ? dst[c] : 0.0f;
      }
  }
}

LTH_CLONES void gradTransform(const Tiles& g, uint32_t C, const float* dy, float* Z, uint32_t t0, uint32_t t1) {
  thread_local std::vector<float> buf;
  buf.resize((size_t)40 * C);
  float* d = buf.data();            // [4][4][C], the tile
  float* t = d + (size_t)16 * C;    // [6][4][C], A d
  const size_t ps = (size_t)g.T * C;
  for (uint32_t tile = t0; tile < t1; tile++) {
    const At a = locate(g, tile);
    const bool inner = a.y + 4 <= (int32_t)g.H && a.x + 4 <= (int32_t)g.W;  // as inputTransform
    const float* src = d;
    size_t rowStride = (size_t)4 * C;
    if (inner) {
      src = dy + (((size_t)a.b * g.H + a.y) * g.W + a.x) * C;
      rowStride = (size_t)g.W * C;
    } else {
      for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) {
          const int32_t yy = a.y + i, xx = a.x + j;
          float* dst = d + (size_t)(i * 4 + j) * C;
          if (yy >= (int32_t)g.H || xx >= (int32_t)g.W) std::memset(dst, 0, (size_t)C * 4);
          else std::memcpy(dst, dy + (((size_t)a.b * g.H + yy) * g.W + xx) * C, (size_t)C * 4);
        }
    }
    for (int j = 0; j < 4; j++) a6(src + (size_t)j * C, rowStride, t + (size_t)j * C, (size_t)4 * C, C);
    for (int k = 0; k < 6; k++) a6(t + (size_t)k * 4 * C, C, Z + (size_t)k * 6 * ps + (size_t)tile * C, ps, C);
  }
}

void filterTransform(const float* w, uint32_t ci, uint32_t co, bool flipped, float* U) {
  // U's rows are the filter's input channels: ci as given, or co when flipped.
  const uint32_t rows = flipped ? co : ci, cols = flipped ? ci : co;
  for (uint32_t r = 0; r < rows; r++)
    for (uint32_t c = 0; c < cols; c++) {
      float g[3][3], t[6][3];
      for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
          g[i][j] = flipped ? w[((size_t)((2 - i) * 3 + (2 - j)) * ci + c) * co + r] : w[((size_t)(i * 3 + j) * ci + r) * co + c];
      for (int k = 0; k < 6; k++)
        for (int j = 0; j < 3; j++) t[k][j] = kG[k][0] * g[0][j] + kG[k][1] * g[1][j] + kG[k][2] * g[2][j];
      for (int k = 0; k < 6; k++)
        for (int l = 0; l < 6; l++) U[((size_t)(k * 6 + l) * rows + r) * cols + c] = t[k][0] * kG[l][0] + t[k][1] * kG[l][1] + t[k][2] * kG[l][2];
    }
}

void filterGradient(const float* dU, uint32_t ci, uint32_t co, float* dw) {
  const size_t ps = (size_t)ci * co;
  for (uint32_t r = 0; r < ci; r++)
    for (uint32_t c = 0; c < co; c++) {
      float t[3][6];  // G^T dU
      for (int i = 0; i < 3; i++)
        for (int l = 0; l < 6; l++) {
          float s = 0;
          for (int k = 0; k < 6; k++) s += kG[k][i] * dU[(size_t)(k * 6 + l) * ps + (size_t)r * co + c];
          t[i][l] = s;
        }
      for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
          float s = 0;
          for (int l = 0; l < 6; l++) s += t[i][l] * kG[l][j];
          dw[((size_t)(i * 3 + j) * ci + r) * co + c] = s;
        }
    }
}

}  // namespace wino
}  // namespace lth
