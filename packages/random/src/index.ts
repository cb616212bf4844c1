// Seeded randomness on its own, so that packages which need random draws but no tensors
// (@lth/pruner, the weight initialization of @lth/models) load without the tfjs backend.
// @lth/compute re-exports all of it for existing callers.
export { createRng, RNG_PURPOSES, type Rng, type RngPurpose } from './rng';
