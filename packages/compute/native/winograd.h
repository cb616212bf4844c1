// 3x3 stride-1 'same' convolutions by Winograd's F(4x4, 3x3) (Lavin & Gray 2016) for the native
// conv-net step (convnet.cc): the same decomposition as the wasm kernels (src/wasm/conv/
// winograd.ts), all of it native. A convolution is 36 independent products, one per point of
// the 6x6 transform domain, between transforms of 6x6 input tiles and of the filters:
//   forward          M[p] = V[p] · U[p]        ([tiles, ci] x [ci, co]), y = A^T M A per tile
//   input gradient   the forward of dz with the filter rotated 180° and its channels swapped
//   filter gradient  dU[p] = V[p]^T · Z[p]     ([ci, tiles] x [tiles, co]), Z = A dy A^T,
//                    dw = G^T dU G
// Tiles and channels are independent in every transform, so any split of the tiles across
// threads gives the same values.
#pragma once
#include <cstdint>

namespace lth {
namespace wino {

constexpr uint32_t kPoints = 36;

// Images [B, H, W, *] (NHWC) cut into 4x4 output tiles: th x tw per image, T in all.
struct Tiles {
  uint32_t B, H, W, th, tw, T;
};
Tiles tilesOf(uint32_t B, uint32_t H, uint32_t W);

// Which tiles a transform-domain buffer holds: `rows` tiles from `base`, tile t of point p at
// ((p * rows) + t - base) * C. {0, T} is the whole batch; a block of tiles keeps its own.
struct Span {
  uint32_t base, rows;
};

// V[p][t][c] for tiles [t0, t1): B^T d B of each 6x6 input tile d of x [B, H, W, C] (zero
// outside the image: the 'same' padding).
void inputTransform(const Tiles& g, uint32_t C, const float* x, float* V, Span at, uint32_t t0, uint32_t t1);

// Tiles [t0, t1) of y [B, H, W, C] = A^T M[p][t][c] A (+ bias[c]), then ReLU when `relu`.
void outputTransform(const Tiles& g, uint32_t C, const float* M, Span at, const float* bias, bool relu, float* y, uint32_t t0, uint32_t t1);

// Z[p][t][c] for tiles [t0, t1): A dy A^T of each 4x4 tile of dy [B, H, W, C] (zero outside).
void gradTransform(const Tiles& g, uint32_t C, const float* dy, float* Z, uint32_t t0, uint32_t t1);

// U[p][ci][co] = G w G^T from w [3, 3, ci, co] (HWIO, tfjs' layout). `flipped`: the filter
// of the input gradient instead, w rotated 180° with its channels swapped, as U[p][co][ci].
void filterTransform(const float* w, uint32_t ci, uint32_t co, bool flipped, float* U);

// dw [3, 3, ci, co] = G^T dU[p][ci][co] G.
void filterGradient(const float* dU, uint32_t ci, uint32_t co, float* dw);

}  // namespace wino
}  // namespace lth
